/*
 * The test harness (docs/windows.md §10): plays LogonUI. It loads the provider by its CLSID through
 * COM, walks SetUsageScenario → Advise → GetCredentialCount → GetCredentialAt → Advise, then the
 * steps it is given, and prints one JSON object with what it saw, the serialization decoded.
 *
 *   cp-harness.exe logon|unlock STEP…    steps: select, status, user=NAME, pin=PIN, phone,
 *                                        password ("Sign in with my password"; pin= then types it),
 *                                        wait=MS (for CredentialsChanged), serialize, report=NTSTATUS
 *   cp-harness.exe whoami                this process's account SID (what a service runs as under wine)
 */
#define INITGUID
#include <windows.h>
#include <ntsecapi.h>
#include <sddl.h>
#include <stdio.h>
#include <wchar.h>

#include "credentialprovider.h"
#include "provider.h"

/* ---- JSON output ---- */

static void json_utf8(const char *s) {
  putchar('"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') printf("\\%c", *p);
    else if (*p < 0x20) printf("\\u%04x", *p);
    else putchar(*p);
  }
  putchar('"');
}

static void json_wide(const WCHAR *w, int units) {
  char utf8[4096];
  int n = WideCharToMultiByte(CP_UTF8, 0, w, units, utf8, sizeof utf8 - 1, NULL, NULL);
  utf8[n > 0 ? n : 0] = '\0';
  json_utf8(utf8);
}

/* ---- the events LogonUI would receive ---- */

static HANDLE credentials_changed;
static WCHAR last_status[1024];

static HRESULT STDMETHODCALLTYPE events_query(ICredentialProviderEvents *self, REFIID riid, void **out) {
  *out = IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_ICredentialProviderEvents) ? self : NULL;
  return *out ? S_OK : E_NOINTERFACE;
}
static ULONG STDMETHODCALLTYPE events_add_ref(ICredentialProviderEvents *self) { (void)self; return 2; }
static ULONG STDMETHODCALLTYPE events_release(ICredentialProviderEvents *self) { (void)self; return 1; }
static HRESULT STDMETHODCALLTYPE events_changed(ICredentialProviderEvents *self, UINT_PTR context) {
  (void)self, (void)context;
  SetEvent(credentials_changed);
  return S_OK;
}
static const ICredentialProviderEventsVtbl events_vtbl = {events_query, events_add_ref, events_release, events_changed};
static ICredentialProviderEvents provider_events = {&events_vtbl};

static HRESULT STDMETHODCALLTYPE cevents_query(ICredentialProviderCredentialEvents *self, REFIID riid, void **out) {
  *out = IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_ICredentialProviderCredentialEvents) ? self : NULL;
  return *out ? S_OK : E_NOINTERFACE;
}
static ULONG STDMETHODCALLTYPE cevents_add_ref(ICredentialProviderCredentialEvents *self) { (void)self; return 2; }
static ULONG STDMETHODCALLTYPE cevents_release(ICredentialProviderCredentialEvents *self) { (void)self; return 1; }

/* A field event the harness has no use for (the status string aside): it answers S_OK and keeps nothing. */
#define IGNORED_FIELD_EVENT(name, value_type)                                                             \
  static HRESULT STDMETHODCALLTYPE name(ICredentialProviderCredentialEvents *self,                        \
                                        ICredentialProviderCredential *c, DWORD f, value_type value) {    \
    (void)self, (void)c, (void)f, (void)value;                                                            \
    return S_OK;                                                                                          \
  }
IGNORED_FIELD_EVENT(cevents_state, CREDENTIAL_PROVIDER_FIELD_STATE)
IGNORED_FIELD_EVENT(cevents_interactive, CREDENTIAL_PROVIDER_FIELD_INTERACTIVE_STATE)
IGNORED_FIELD_EVENT(cevents_bitmap, HBITMAP)
IGNORED_FIELD_EVENT(cevents_combo, DWORD)
IGNORED_FIELD_EVENT(cevents_append, LPCWSTR)
static HRESULT STDMETHODCALLTYPE cevents_checkbox(ICredentialProviderCredentialEvents *self, ICredentialProviderCredential *c, DWORD f, BOOL b, LPCWSTR l) {
  (void)self, (void)c, (void)f, (void)b, (void)l;
  return S_OK;
}
static HRESULT STDMETHODCALLTYPE cevents_string(ICredentialProviderCredentialEvents *self, ICredentialProviderCredential *c, DWORD f, LPCWSTR value) {
  (void)self, (void)c;
  if (f == LK_FIELD_STATUS && value != NULL) wcsncpy(last_status, value, 1023);
  return S_OK;
}
static HRESULT STDMETHODCALLTYPE cevents_window(ICredentialProviderCredentialEvents *self, HWND *owner) {
  (void)self;
  *owner = NULL;
  return S_OK;
}
static const ICredentialProviderCredentialEventsVtbl cevents_vtbl = {
    cevents_query, cevents_add_ref, cevents_release, cevents_state, cevents_interactive, cevents_string,
    cevents_checkbox, cevents_bitmap, cevents_combo, cevents_combo, cevents_append, cevents_combo, cevents_window};
static ICredentialProviderCredentialEvents credential_events = {&cevents_vtbl};

/* ---- steps ---- */

static void print_fields(ICredentialProviderCredential *c) {
  static const char *names[LK_FIELD_COUNT] = {"title", "user", "pin", "phone", "status", "submit", "passwordLink"};
  static const char *states[] = {"hidden", "selected", "deselected", "both"};
  static const char *interactive[] = {"none", "readonly", "disabled", "focused"};
  printf("\"fields\":{");
  for (DWORD f = 0; f < LK_FIELD_COUNT; f++) {
    CREDENTIAL_PROVIDER_FIELD_STATE s = CPFS_HIDDEN;
    CREDENTIAL_PROVIDER_FIELD_INTERACTIVE_STATE i = CPFIS_NONE;
    c->lpVtbl->GetFieldState(c, f, &s, &i);
    printf("%s\"%s\":{\"state\":\"%s\",\"interactive\":\"%s\"}", f ? "," : "", names[f], states[s & 3], interactive[i & 3]);
  }
  LPWSTR status = NULL;
  c->lpVtbl->GetStringValue(c, LK_FIELD_STATUS, &status);
  printf("},\"status\":");
  json_wide(status ? status : L"", -1);
  CoTaskMemFree(status);
}

static int string_at(const CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION *s, const UNICODE_STRING *u, const char *name) {
  ULONG_PTR offset = (ULONG_PTR)u->Buffer;
  if (u->Length % 2 != 0 || offset > s->cbSerialization || u->Length > s->cbSerialization - offset) {
    printf("\"%s\":null", name);
    return 0;
  }
  printf("\"%s\":", name);
  json_wide((const WCHAR *)(s->rgbSerialization + offset), u->Length / 2);
  return 1;
}

static void print_serialization(const CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION *s) {
  if (s->rgbSerialization == NULL || s->cbSerialization < sizeof(KERB_INTERACTIVE_UNLOCK_LOGON)) {
    printf("null");
    return;
  }
  const KERB_INTERACTIVE_UNLOCK_LOGON *k = (const KERB_INTERACTIVE_UNLOCK_LOGON *)s->rgbSerialization;
  WCHAR clsid[64];
  StringFromGUID2(&s->clsidCredentialProvider, clsid, 64);
  printf("{\"package\":%lu,\"bytes\":%lu,\"provider\":", s->ulAuthenticationPackage, s->cbSerialization);
  json_wide(clsid, -1);
  printf(",\"messageType\":%d,", (int)k->Logon.MessageType);
  string_at(s, &k->Logon.LogonDomainName, "domain");
  printf(",");
  string_at(s, &k->Logon.UserName, "user");
  printf(",");
  string_at(s, &k->Logon.Password, "password");
  printf("}");
}

static WCHAR *widen(const char *utf8) {
  static WCHAR out[1024];
  MultiByteToWideChar(CP_UTF8, 0, utf8, -1, out, 1024);
  return out;
}

static void step(ICredentialProvider *p, ICredentialProviderCredential **c, const char *s) {
  printf("{\"step\":");
  json_utf8(s);
  if (strcmp(s, "select") == 0) {
    BOOL auto_logon = FALSE;
    HRESULT r = (*c)->lpVtbl->SetSelected(*c, &auto_logon);
    printf(",\"hr\":%ld,\"autoLogon\":%d,", (long)r, auto_logon);
    print_fields(*c);
  } else if (strcmp(s, "status") == 0) {
    printf(",");
    print_fields(*c);
  } else if (strncmp(s, "user=", 5) == 0 || strncmp(s, "pin=", 4) == 0) {
    int user = s[0] == 'u';
    HRESULT r = (*c)->lpVtbl->SetStringValue(*c, user ? LK_FIELD_USER : LK_FIELD_PIN, widen(s + (user ? 5 : 4)));
    printf(",\"hr\":%ld", (long)r);
  } else if (strcmp(s, "phone") == 0 || strcmp(s, "password") == 0) {
    HRESULT r = (*c)->lpVtbl->CommandLinkClicked(*c, s[1] == 'h' ? LK_FIELD_PHONE : LK_FIELD_PASSWORD_LINK);
    printf(",\"hr\":%ld,\"said\":", (long)r);
    json_wide(last_status, -1);
  } else if (strncmp(s, "wait=", 5) == 0) {
    ULONGLONG started = GetTickCount64();
    int changed = WaitForSingleObject(credentials_changed, (DWORD)atol(s + 5)) == WAIT_OBJECT_0;
    ResetEvent(credentials_changed);
    printf(",\"changed\":%d,\"afterMs\":%llu", changed, GetTickCount64() - started);
    if (changed) { /* LogonUI enumerates again */
      DWORD count = 0, index = 0;
      BOOL auto_logon = FALSE;
      p->lpVtbl->GetCredentialCount(p, &count, &index, &auto_logon);
      (*c)->lpVtbl->Release(*c);
      p->lpVtbl->GetCredentialAt(p, 0, c);
      printf(",\"count\":%lu,\"autoLogon\":%d,", count, auto_logon);
      print_fields(*c);
    }
  } else if (strcmp(s, "serialize") == 0) {
    CREDENTIAL_PROVIDER_GET_SERIALIZATION_RESPONSE response = CPGSR_NO_CREDENTIAL_FINISHED;
    CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION serialization = {0};
    LPWSTR text = NULL;
    CREDENTIAL_PROVIDER_STATUS_ICON icon = CPSI_NONE;
    HRESULT r = (*c)->lpVtbl->GetSerialization(*c, &response, &serialization, &text, &icon);
    printf(",\"hr\":%ld,\"response\":%d,\"icon\":%d,\"text\":", (long)r, (int)response, (int)icon);
    json_wide(text ? text : L"", -1);
    printf(",\"serialization\":");
    print_serialization(&serialization);
    CoTaskMemFree(text);
    if (serialization.rgbSerialization != NULL) {
      SecureZeroMemory(serialization.rgbSerialization, serialization.cbSerialization);
      CoTaskMemFree(serialization.rgbSerialization);
    }
  } else if (strncmp(s, "report=", 7) == 0) {
    LPWSTR text = NULL;
    CREDENTIAL_PROVIDER_STATUS_ICON icon = CPSI_NONE;
    HRESULT r = (*c)->lpVtbl->ReportResult(*c, strtol(s + 7, NULL, 0), 0, &text, &icon);
    printf(",\"hr\":%ld,\"icon\":%d,\"text\":", (long)r, (int)icon);
    json_wide(text ? text : L"", -1);
    CoTaskMemFree(text);
  } else {
    printf(",\"error\":\"unknown step\"");
  }
  printf("}");
}

static int drive(int argc, char **argv) {
  CREDENTIAL_PROVIDER_USAGE_SCENARIO scenario = strcmp(argv[1], "unlock") == 0 ? CPUS_UNLOCK_WORKSTATION : CPUS_LOGON;
  credentials_changed = CreateEventW(NULL, TRUE, FALSE, NULL);
  CoInitializeEx(NULL, COINIT_APARTMENTTHREADED);
  ICredentialProvider *p = NULL;
  HRESULT r = CoCreateInstance(&CLSID_LatchkeyProvider, NULL, CLSCTX_INPROC_SERVER, &IID_ICredentialProvider, (void **)&p);
  printf("{\"created\":%ld", (long)r);
  if (r != S_OK) {
    printf("}\n");
    return 1;
  }
  r = p->lpVtbl->SetUsageScenario(p, scenario, 0);
  printf(",\"scenario\":%ld", (long)r);
  p->lpVtbl->Advise(p, &provider_events, 42);
  DWORD fields = 0, count = 0, index = 0;
  BOOL auto_logon = FALSE;
  p->lpVtbl->GetFieldDescriptorCount(p, &fields);
  printf(",\"labels\":[");
  for (DWORD i = 0; i < fields; i++) {
    CREDENTIAL_PROVIDER_FIELD_DESCRIPTOR *d = NULL;
    p->lpVtbl->GetFieldDescriptorAt(p, i, &d);
    printf("%s", i ? "," : "");
    json_wide(d ? d->pszLabel : L"", -1);
    if (d) {
      CoTaskMemFree(d->pszLabel);
      CoTaskMemFree(d);
    }
  }
  p->lpVtbl->GetCredentialCount(p, &count, &index, &auto_logon);
  printf("],\"count\":%lu", count);
  ICredentialProviderCredential *c = NULL;
  if (count == 0 || p->lpVtbl->GetCredentialAt(p, 0, &c) != S_OK) {
    printf("}\n");
    return 1;
  }
  c->lpVtbl->Advise(c, &credential_events);
  printf(",\"steps\":[");
  for (int i = 2; i < argc; i++) {
    if (i > 2) printf(",");
    step(p, &c, argv[i]);
    fflush(stdout);
  }
  printf("]");
  c->lpVtbl->UnAdvise(c);
  c->lpVtbl->Release(c);
  p->lpVtbl->UnAdvise(p);
  p->lpVtbl->Release(p);
  printf(",\"released\":true}\n");
  CoUninitialize();
  return 0;
}

static int print_sid(void) {
  HANDLE token = NULL;
  BYTE buffer[SECURITY_MAX_SID_SIZE + sizeof(TOKEN_USER)];
  DWORD needed = 0;
  LPWSTR sid = NULL;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token) || !GetTokenInformation(token, TokenUser, buffer, sizeof buffer, &needed) ||
      !ConvertSidToStringSidW(((TOKEN_USER *)buffer)->User.Sid, &sid)) {
    printf("{\"error\":%lu}\n", GetLastError());
    return 1;
  }
  printf("{\"sid\":");
  json_wide(sid, -1);
  printf("}\n");
  LocalFree(sid);
  CloseHandle(token);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "whoami") == 0) return print_sid();
  if (argc >= 2 && (strcmp(argv[1], "logon") == 0 || strcmp(argv[1], "unlock") == 0)) return drive(argc, argv);
  fprintf(stderr, "usage: cp-harness.exe logon|unlock STEP... | whoami\n");
  return 2;
}
