/*
 * The credential-provider interfaces of the Windows SDK's credentialprovider.h, which mingw-w64 10
 * does not ship: written from Microsoft's documentation (learn.microsoft.com, "credentialprovider.h"),
 * C interfaces only, methods in the SDK's vtable order. Only what Latchkey uses is declared.
 */
#ifndef LATCHKEY_CREDENTIALPROVIDER_H
#define LATCHKEY_CREDENTIALPROVIDER_H

#include <windows.h>
#include <unknwn.h>

typedef enum _CREDENTIAL_PROVIDER_USAGE_SCENARIO {
  CPUS_INVALID = 0,
  CPUS_LOGON,
  CPUS_UNLOCK_WORKSTATION,
  CPUS_CHANGE_PASSWORD,
  CPUS_CREDUI,
  CPUS_PLAP
} CREDENTIAL_PROVIDER_USAGE_SCENARIO;

typedef enum _CREDENTIAL_PROVIDER_FIELD_TYPE {
  CPFT_INVALID = 0,
  CPFT_LARGE_TEXT,
  CPFT_SMALL_TEXT,
  CPFT_COMMAND_LINK,
  CPFT_EDIT_TEXT,
  CPFT_PASSWORD_TEXT,
  CPFT_TILE_IMAGE,
  CPFT_CHECKBOX,
  CPFT_COMBOBOX,
  CPFT_SUBMIT_BUTTON
} CREDENTIAL_PROVIDER_FIELD_TYPE;

typedef enum _CREDENTIAL_PROVIDER_FIELD_STATE {
  CPFS_HIDDEN = 0,
  CPFS_DISPLAY_IN_SELECTED_TILE,
  CPFS_DISPLAY_IN_DESELECTED_TILE,
  CPFS_DISPLAY_IN_BOTH
} CREDENTIAL_PROVIDER_FIELD_STATE;

typedef enum _CREDENTIAL_PROVIDER_FIELD_INTERACTIVE_STATE {
  CPFIS_NONE = 0,
  CPFIS_READONLY,
  CPFIS_DISABLED,
  CPFIS_FOCUSED
} CREDENTIAL_PROVIDER_FIELD_INTERACTIVE_STATE;

typedef struct _CREDENTIAL_PROVIDER_FIELD_DESCRIPTOR {
  DWORD dwFieldID;
  CREDENTIAL_PROVIDER_FIELD_TYPE cpft;
  LPWSTR pszLabel;
  GUID guidFieldType;
} CREDENTIAL_PROVIDER_FIELD_DESCRIPTOR;

typedef enum _CREDENTIAL_PROVIDER_GET_SERIALIZATION_RESPONSE {
  CPGSR_NO_CREDENTIAL_NOT_FINISHED = 0,
  CPGSR_NO_CREDENTIAL_FINISHED,
  CPGSR_RETURN_CREDENTIAL_FINISHED,
  CPGSR_RETURN_NO_CREDENTIAL_FINISHED
} CREDENTIAL_PROVIDER_GET_SERIALIZATION_RESPONSE;

typedef enum _CREDENTIAL_PROVIDER_STATUS_ICON {
  CPSI_NONE = 0,
  CPSI_ERROR,
  CPSI_WARNING,
  CPSI_SUCCESS
} CREDENTIAL_PROVIDER_STATUS_ICON;

typedef struct _CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION {
  ULONG ulAuthenticationPackage;
  GUID clsidCredentialProvider;
  ULONG cbSerialization;
  BYTE *rgbSerialization;
} CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION;

#define CREDENTIAL_PROVIDER_NO_DEFAULT ((DWORD)-1)

typedef struct ICredentialProviderCredential ICredentialProviderCredential;
typedef struct ICredentialProviderCredentialEvents ICredentialProviderCredentialEvents;
typedef struct ICredentialProvider ICredentialProvider;
typedef struct ICredentialProviderEvents ICredentialProviderEvents;

/* {63913a93-40c1-481a-818d-4072ff8c70cc} */
DEFINE_GUID(IID_ICredentialProviderCredential, 0x63913a93, 0x40c1, 0x481a, 0x81, 0x8d, 0x40, 0x72, 0xff, 0x8c, 0x70, 0xcc);
/* {fa6fa76b-66b7-4b11-95f1-86171118e816} */
DEFINE_GUID(IID_ICredentialProviderCredentialEvents, 0xfa6fa76b, 0x66b7, 0x4b11, 0x95, 0xf1, 0x86, 0x17, 0x11, 0x18, 0xe8, 0x16);
/* {d27c3481-5a1c-45b2-8aaa-c20ebbe8229e} */
DEFINE_GUID(IID_ICredentialProvider, 0xd27c3481, 0x5a1c, 0x45b2, 0x8a, 0xaa, 0xc2, 0x0e, 0xbb, 0xe8, 0x22, 0x9e);
/* {34201e5a-a787-41a3-a5a4-bd6dcf2a854e} */
DEFINE_GUID(IID_ICredentialProviderEvents, 0x34201e5a, 0xa787, 0x41a3, 0xa5, 0xa4, 0xbd, 0x6d, 0xcf, 0x2a, 0x85, 0x4e);

typedef struct ICredentialProviderCredentialVtbl {
  HRESULT(STDMETHODCALLTYPE *QueryInterface)(ICredentialProviderCredential *self, REFIID riid, void **out);
  ULONG(STDMETHODCALLTYPE *AddRef)(ICredentialProviderCredential *self);
  ULONG(STDMETHODCALLTYPE *Release)(ICredentialProviderCredential *self);
  HRESULT(STDMETHODCALLTYPE *Advise)(ICredentialProviderCredential *self, ICredentialProviderCredentialEvents *events);
  HRESULT(STDMETHODCALLTYPE *UnAdvise)(ICredentialProviderCredential *self);
  HRESULT(STDMETHODCALLTYPE *SetSelected)(ICredentialProviderCredential *self, BOOL *auto_logon);
  HRESULT(STDMETHODCALLTYPE *SetDeselected)(ICredentialProviderCredential *self);
  HRESULT(STDMETHODCALLTYPE *GetFieldState)(ICredentialProviderCredential *self, DWORD field,
                                            CREDENTIAL_PROVIDER_FIELD_STATE *state,
                                            CREDENTIAL_PROVIDER_FIELD_INTERACTIVE_STATE *interactive);
  HRESULT(STDMETHODCALLTYPE *GetStringValue)(ICredentialProviderCredential *self, DWORD field, LPWSTR *value);
  HRESULT(STDMETHODCALLTYPE *GetBitmapValue)(ICredentialProviderCredential *self, DWORD field, HBITMAP *bitmap);
  HRESULT(STDMETHODCALLTYPE *GetCheckboxValue)(ICredentialProviderCredential *self, DWORD field, BOOL *checked,
                                               LPWSTR *label);
  HRESULT(STDMETHODCALLTYPE *GetSubmitButtonValue)(ICredentialProviderCredential *self, DWORD field,
                                                   DWORD *adjacent_to);
  HRESULT(STDMETHODCALLTYPE *GetComboBoxValueCount)(ICredentialProviderCredential *self, DWORD field,
                                                    DWORD *items, DWORD *selected);
  HRESULT(STDMETHODCALLTYPE *GetComboBoxValueAt)(ICredentialProviderCredential *self, DWORD field, DWORD item,
                                                 LPWSTR *value);
  HRESULT(STDMETHODCALLTYPE *SetStringValue)(ICredentialProviderCredential *self, DWORD field, LPCWSTR value);
  HRESULT(STDMETHODCALLTYPE *SetCheckboxValue)(ICredentialProviderCredential *self, DWORD field, BOOL checked);
  HRESULT(STDMETHODCALLTYPE *SetComboBoxSelectedValue)(ICredentialProviderCredential *self, DWORD field,
                                                       DWORD selected);
  HRESULT(STDMETHODCALLTYPE *CommandLinkClicked)(ICredentialProviderCredential *self, DWORD field);
  HRESULT(STDMETHODCALLTYPE *GetSerialization)(ICredentialProviderCredential *self,
                                               CREDENTIAL_PROVIDER_GET_SERIALIZATION_RESPONSE *response,
                                               CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION *serialization,
                                               LPWSTR *status_text, CREDENTIAL_PROVIDER_STATUS_ICON *status_icon);
  HRESULT(STDMETHODCALLTYPE *ReportResult)(ICredentialProviderCredential *self, LONG status, LONG substatus,
                                           LPWSTR *status_text, CREDENTIAL_PROVIDER_STATUS_ICON *status_icon);
} ICredentialProviderCredentialVtbl;
struct ICredentialProviderCredential {
  const ICredentialProviderCredentialVtbl *lpVtbl;
};

typedef struct ICredentialProviderCredentialEventsVtbl {
  HRESULT(STDMETHODCALLTYPE *QueryInterface)(ICredentialProviderCredentialEvents *self, REFIID riid, void **out);
  ULONG(STDMETHODCALLTYPE *AddRef)(ICredentialProviderCredentialEvents *self);
  ULONG(STDMETHODCALLTYPE *Release)(ICredentialProviderCredentialEvents *self);
  HRESULT(STDMETHODCALLTYPE *SetFieldState)(ICredentialProviderCredentialEvents *self,
                                            ICredentialProviderCredential *credential, DWORD field,
                                            CREDENTIAL_PROVIDER_FIELD_STATE state);
  HRESULT(STDMETHODCALLTYPE *SetFieldInteractiveState)(ICredentialProviderCredentialEvents *self,
                                                       ICredentialProviderCredential *credential, DWORD field,
                                                       CREDENTIAL_PROVIDER_FIELD_INTERACTIVE_STATE state);
  HRESULT(STDMETHODCALLTYPE *SetFieldString)(ICredentialProviderCredentialEvents *self,
                                             ICredentialProviderCredential *credential, DWORD field, LPCWSTR value);
  HRESULT(STDMETHODCALLTYPE *SetFieldCheckbox)(ICredentialProviderCredentialEvents *self,
                                               ICredentialProviderCredential *credential, DWORD field, BOOL checked,
                                               LPCWSTR label);
  HRESULT(STDMETHODCALLTYPE *SetFieldBitmap)(ICredentialProviderCredentialEvents *self,
                                             ICredentialProviderCredential *credential, DWORD field, HBITMAP bitmap);
  HRESULT(STDMETHODCALLTYPE *SetFieldComboBoxSelectedItem)(ICredentialProviderCredentialEvents *self,
                                                           ICredentialProviderCredential *credential, DWORD field,
                                                           DWORD selected);
  HRESULT(STDMETHODCALLTYPE *DeleteFieldComboBoxItem)(ICredentialProviderCredentialEvents *self,
                                                      ICredentialProviderCredential *credential, DWORD field,
                                                      DWORD item);
  HRESULT(STDMETHODCALLTYPE *AppendFieldComboBoxItem)(ICredentialProviderCredentialEvents *self,
                                                      ICredentialProviderCredential *credential, DWORD field,
                                                      LPCWSTR item);
  HRESULT(STDMETHODCALLTYPE *SetFieldSubmitButton)(ICredentialProviderCredentialEvents *self,
                                                   ICredentialProviderCredential *credential, DWORD field,
                                                   DWORD adjacent_to);
  HRESULT(STDMETHODCALLTYPE *OnCreatingWindow)(ICredentialProviderCredentialEvents *self, HWND *owner);
} ICredentialProviderCredentialEventsVtbl;
struct ICredentialProviderCredentialEvents {
  const ICredentialProviderCredentialEventsVtbl *lpVtbl;
};

typedef struct ICredentialProviderVtbl {
  HRESULT(STDMETHODCALLTYPE *QueryInterface)(ICredentialProvider *self, REFIID riid, void **out);
  ULONG(STDMETHODCALLTYPE *AddRef)(ICredentialProvider *self);
  ULONG(STDMETHODCALLTYPE *Release)(ICredentialProvider *self);
  HRESULT(STDMETHODCALLTYPE *SetUsageScenario)(ICredentialProvider *self, CREDENTIAL_PROVIDER_USAGE_SCENARIO scenario,
                                               DWORD flags);
  HRESULT(STDMETHODCALLTYPE *SetSerialization)(ICredentialProvider *self,
                                               const CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION *serialization);
  HRESULT(STDMETHODCALLTYPE *Advise)(ICredentialProvider *self, ICredentialProviderEvents *events, UINT_PTR context);
  HRESULT(STDMETHODCALLTYPE *UnAdvise)(ICredentialProvider *self);
  HRESULT(STDMETHODCALLTYPE *GetFieldDescriptorCount)(ICredentialProvider *self, DWORD *count);
  HRESULT(STDMETHODCALLTYPE *GetFieldDescriptorAt)(ICredentialProvider *self, DWORD index,
                                                   CREDENTIAL_PROVIDER_FIELD_DESCRIPTOR **descriptor);
  HRESULT(STDMETHODCALLTYPE *GetCredentialCount)(ICredentialProvider *self, DWORD *count, DWORD *default_index,
                                                 BOOL *auto_logon_with_default);
  HRESULT(STDMETHODCALLTYPE *GetCredentialAt)(ICredentialProvider *self, DWORD index,
                                              ICredentialProviderCredential **credential);
} ICredentialProviderVtbl;
struct ICredentialProvider {
  const ICredentialProviderVtbl *lpVtbl;
};

typedef struct ICredentialProviderEventsVtbl {
  HRESULT(STDMETHODCALLTYPE *QueryInterface)(ICredentialProviderEvents *self, REFIID riid, void **out);
  ULONG(STDMETHODCALLTYPE *AddRef)(ICredentialProviderEvents *self);
  ULONG(STDMETHODCALLTYPE *Release)(ICredentialProviderEvents *self);
  HRESULT(STDMETHODCALLTYPE *CredentialsChanged)(ICredentialProviderEvents *self, UINT_PTR context);
} ICredentialProviderEventsVtbl;
struct ICredentialProviderEvents {
  const ICredentialProviderEventsVtbl *lpVtbl;
};

#endif
