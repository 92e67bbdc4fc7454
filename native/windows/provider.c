/*
 * The credential provider's COM surface (docs/windows.md §4): DllGetClassObject and
 * DllCanUnloadNow (the only exports, latchkey-cp.def), a class factory, and ICredentialProvider
 * with one tile for CPUS_LOGON and CPUS_UNLOCK_WORKSTATION. Every decision is the agent's.
 */
#define INITGUID
#include "provider.h"

#include <wchar.h>

static LONG dll_refs = 0;

void lk_dll_hold(void) { InterlockedIncrement(&dll_refs); }
void lk_dll_release(void) { InterlockedDecrement(&dll_refs); }

/* ---- IUnknown ---- */

void lk_com_init(struct lk_com *com, const IID *iid, void (*destroy)(void *object)) {
  com->refs = 1;
  com->iid = iid;
  com->destroy = destroy;
  lk_dll_hold();
}

HRESULT lk_com_query(void *object, struct lk_com *com, REFIID riid, void **out) {
  if (out == NULL) return E_POINTER;
  if (!IsEqualIID(riid, &IID_IUnknown) && !IsEqualIID(riid, com->iid)) {
    *out = NULL;
    return E_NOINTERFACE;
  }
  *out = object;
  lk_com_add_ref(com);
  return S_OK;
}

ULONG lk_com_add_ref(struct lk_com *com) { return InterlockedIncrement(&com->refs); }

ULONG lk_com_release(void *object, struct lk_com *com) {
  LONG refs = InterlockedDecrement(&com->refs);
  if (refs == 0) {
    com->destroy(object); /* com goes with it */
    lk_dll_release();
  }
  return refs;
}

/* ---- notify ---- */

void lk_notify_hold(struct lk_notify *notify) { InterlockedIncrement(&notify->refs); }

void lk_notify_release(struct lk_notify *notify) {
  if (InterlockedDecrement(&notify->refs) != 0) return;
  if (notify->events != NULL) notify->events->lpVtbl->Release(notify->events);
  DeleteCriticalSection(&notify->lock);
  HeapFree(GetProcessHeap(), 0, notify);
}

void lk_notify_credentials_changed(struct lk_notify *notify) {
  EnterCriticalSection(&notify->lock);
  if (notify->events != NULL) notify->events->lpVtbl->CredentialsChanged(notify->events, notify->context);
  LeaveCriticalSection(&notify->lock);
}

static void notify_set(struct lk_notify *notify, ICredentialProviderEvents *events, UINT_PTR context) {
  EnterCriticalSection(&notify->lock);
  if (notify->events != NULL) notify->events->lpVtbl->Release(notify->events);
  notify->events = events;
  notify->context = context;
  if (events != NULL) events->lpVtbl->AddRef(events);
  LeaveCriticalSection(&notify->lock);
}

/* ---- the provider ---- */

static WCHAR label_title[] = L"Latchkey";
static WCHAR label_user[] = L"User name";
static WCHAR label_pin[] = L"Offline PIN";
static WCHAR label_phone[] = L"Approve on my phone";
static WCHAR label_status[] = L"";
static WCHAR label_submit[] = L"Submit";
static WCHAR label_password_link[] = L"Sign in with my password";

static const CREDENTIAL_PROVIDER_FIELD_DESCRIPTOR descriptors[LK_FIELD_COUNT] = {
    {LK_FIELD_TITLE, CPFT_LARGE_TEXT, label_title, {0}},     {LK_FIELD_USER, CPFT_EDIT_TEXT, label_user, {0}},
    {LK_FIELD_PIN, CPFT_PASSWORD_TEXT, label_pin, {0}},      {LK_FIELD_PHONE, CPFT_COMMAND_LINK, label_phone, {0}},
    {LK_FIELD_STATUS, CPFT_SMALL_TEXT, label_status, {0}},   {LK_FIELD_SUBMIT, CPFT_SUBMIT_BUTTON, label_submit, {0}},
    {LK_FIELD_PASSWORD_LINK, CPFT_COMMAND_LINK, label_password_link, {0}},
};

struct provider {
  ICredentialProvider iface;
  struct lk_com com;
  CREDENTIAL_PROVIDER_USAGE_SCENARIO scenario;
  struct lk_options options;
  struct lk_notify *notify;
  struct lk_tile *tile;
};

static struct provider *provider_of(ICredentialProvider *self) { return (struct provider *)self; }

static void provider_free(void *object) {
  struct provider *p = object;
  if (p->tile != NULL) {
    ICredentialProviderCredential *tile = lk_tile_interface(p->tile);
    tile->lpVtbl->Release(tile);
  }
  notify_set(p->notify, NULL, 0);
  lk_notify_release(p->notify);
  HeapFree(GetProcessHeap(), 0, p);
}

static HRESULT STDMETHODCALLTYPE provider_query(ICredentialProvider *self, REFIID riid, void **out) {
  return lk_com_query(self, &provider_of(self)->com, riid, out);
}
static ULONG STDMETHODCALLTYPE provider_add_ref(ICredentialProvider *self) { return lk_com_add_ref(&provider_of(self)->com); }
static ULONG STDMETHODCALLTYPE provider_release(ICredentialProvider *self) { return lk_com_release(self, &provider_of(self)->com); }

static HRESULT STDMETHODCALLTYPE provider_set_usage_scenario(ICredentialProvider *self, CREDENTIAL_PROVIDER_USAGE_SCENARIO scenario, DWORD flags) {
  (void)flags;
  struct provider *p = provider_of(self);
  if (scenario != CPUS_LOGON && scenario != CPUS_UNLOCK_WORKSTATION) return E_NOTIMPL; /* no tile there */
  if (p->tile != NULL) return S_OK;
  p->scenario = scenario;
  lk_read_options(&p->options);
  return lk_tile_new(scenario, &p->options, p->notify, &p->tile);
}

static HRESULT STDMETHODCALLTYPE provider_set_serialization(ICredentialProvider *self, const CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION *serialization) {
  (void)self;
  (void)serialization;
  return E_NOTIMPL;
}

static HRESULT STDMETHODCALLTYPE provider_advise(ICredentialProvider *self, ICredentialProviderEvents *events, UINT_PTR context) {
  notify_set(provider_of(self)->notify, events, context);
  return S_OK;
}

static HRESULT STDMETHODCALLTYPE provider_unadvise(ICredentialProvider *self) {
  notify_set(provider_of(self)->notify, NULL, 0);
  return S_OK;
}

static HRESULT STDMETHODCALLTYPE provider_field_count(ICredentialProvider *self, DWORD *count) {
  (void)self;
  *count = LK_FIELD_COUNT;
  return S_OK;
}

static HRESULT STDMETHODCALLTYPE provider_field_at(ICredentialProvider *self, DWORD index, CREDENTIAL_PROVIDER_FIELD_DESCRIPTOR **out) {
  (void)self;
  if (out == NULL) return E_POINTER;
  *out = NULL;
  if (index >= LK_FIELD_COUNT) return E_INVALIDARG;
  CREDENTIAL_PROVIDER_FIELD_DESCRIPTOR *copy = CoTaskMemAlloc(sizeof *copy);
  if (copy == NULL) return E_OUTOFMEMORY;
  *copy = descriptors[index];
  size_t bytes = (wcslen(descriptors[index].pszLabel) + 1) * sizeof(WCHAR);
  copy->pszLabel = CoTaskMemAlloc(bytes);
  if (copy->pszLabel == NULL) {
    CoTaskMemFree(copy);
    return E_OUTOFMEMORY;
  }
  CopyMemory(copy->pszLabel, descriptors[index].pszLabel, bytes);
  *out = copy;
  return S_OK;
}

static HRESULT STDMETHODCALLTYPE provider_credential_count(ICredentialProvider *self, DWORD *count, DWORD *default_index, BOOL *auto_logon) {
  struct provider *p = provider_of(self);
  *count = p->tile != NULL ? 1 : 0;
  int ready = p->tile != NULL && lk_tile_has_credential(p->tile);
  *default_index = ready ? 0 : CREDENTIAL_PROVIDER_NO_DEFAULT;
  *auto_logon = ready; /* the phone approved: LogonUI asks this tile for its serialization now */
  return S_OK;
}

static HRESULT STDMETHODCALLTYPE provider_credential_at(ICredentialProvider *self, DWORD index, ICredentialProviderCredential **out) {
  struct provider *p = provider_of(self);
  if (out == NULL) return E_POINTER;
  *out = NULL;
  if (index != 0 || p->tile == NULL) return E_INVALIDARG;
  *out = lk_tile_interface(p->tile);
  (*out)->lpVtbl->AddRef(*out);
  return S_OK;
}

static const ICredentialProviderVtbl provider_vtbl = {
    provider_query,           provider_add_ref,         provider_release,   provider_set_usage_scenario,
    provider_set_serialization, provider_advise,        provider_unadvise,  provider_field_count,
    provider_field_at,        provider_credential_count, provider_credential_at,
};

static HRESULT provider_new(REFIID riid, void **out) {
  struct provider *p = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof *p);
  struct lk_notify *notify = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof *notify);
  if (p == NULL || notify == NULL) {
    if (p != NULL) HeapFree(GetProcessHeap(), 0, p);
    if (notify != NULL) HeapFree(GetProcessHeap(), 0, notify);
    return E_OUTOFMEMORY;
  }
  InitializeCriticalSection(&notify->lock);
  notify->refs = 1;
  p->iface.lpVtbl = &provider_vtbl;
  p->notify = notify;
  lk_com_init(&p->com, &IID_ICredentialProvider, provider_free);
  HRESULT result = provider_query(&p->iface, riid, out);
  provider_release(&p->iface);
  return result;
}

/* ---- class factory and exports ---- */

static HRESULT STDMETHODCALLTYPE factory_query(IClassFactory *self, REFIID riid, void **out) {
  if (out == NULL) return E_POINTER;
  if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IClassFactory)) {
    *out = self;
    return S_OK;
  }
  *out = NULL;
  return E_NOINTERFACE;
}
static ULONG STDMETHODCALLTYPE factory_add_ref(IClassFactory *self) { (void)self; return 2; }
static ULONG STDMETHODCALLTYPE factory_release(IClassFactory *self) { (void)self; return 1; }

static HRESULT STDMETHODCALLTYPE factory_create(IClassFactory *self, IUnknown *outer, REFIID riid, void **out) {
  (void)self;
  if (out == NULL) return E_POINTER;
  *out = NULL;
  if (outer != NULL) return CLASS_E_NOAGGREGATION;
  return provider_new(riid, out);
}

static HRESULT STDMETHODCALLTYPE factory_lock(IClassFactory *self, BOOL lock) {
  (void)self;
  if (lock) lk_dll_hold();
  else lk_dll_release();
  return S_OK;
}

static const IClassFactoryVtbl factory_vtbl = {factory_query, factory_add_ref, factory_release, factory_create, factory_lock};
static IClassFactory factory = {(IClassFactoryVtbl *)&factory_vtbl};

HRESULT WINAPI DllGetClassObject(REFCLSID clsid, REFIID riid, void **out) {
  if (out == NULL) return E_POINTER;
  *out = NULL;
  if (!IsEqualCLSID(clsid, &CLSID_LatchkeyProvider)) return CLASS_E_CLASSNOTAVAILABLE;
  return factory_query(&factory, riid, out);
}

HRESULT WINAPI DllCanUnloadNow(void) { return dll_refs == 0 ? S_OK : S_FALSE; }
