/*
 * The Latchkey tile (docs/windows.md §4.3-4.4): ICredentialProviderCredential. It shows what the
 * agent says, sends the PIN or asks the phone, and hands LogonUI a serialization only when
 * lk_decide() made a credential — or, after "Sign in with my password", packs the password typed
 * like any password and, once ReportResult says LSA accepted it, hands it to the agent to keep
 * (credential-capture, docs/windows.md §6.1). The phone runs on a worker thread that reports back
 * through CredentialsChanged; everything the worker writes is under the tile's lock.
 */
#include "provider.h"

#include <wchar.h>
#include <wtsapi32.h>

#include "agent-exchange.h"
#include "decide.h"
#include "kerb-logon.h"
#include "logon-credential.h"

#define STATUS_MAX 512
#define PIN_UNITS_MAX 64

struct lk_tile {
  ICredentialProviderCredential iface;
  struct lk_com com;
  CRITICAL_SECTION lock;
  CREDENTIAL_PROVIDER_USAGE_SCENARIO scenario;
  struct lk_options options;
  struct lk_notify *notify;
  ICredentialProviderCredentialEvents *events;
  WCHAR user[LK_USER_MAX + 1];
  WCHAR pin[PIN_UNITS_MAX + 1];
  WCHAR status[STATUS_MAX + 1];
  int pin_enabled, phone_link;
  int pin_overlong; /* the last PIN typed was longer than any PIN: it is refused without asking */
  int phone_busy;     /* a worker is asking the phone */
  int has_credential; /* the worker left a credential for GetSerialization */
  struct lk_logon_credential credential;
  uint32_t credential_generation;          /* the capture it came from (docs/ipc.md `generation`), 0 if unsaid */
  char credential_user[LK_USER_MAX + 1];
  uint32_t handed_generation;              /* the handed-back credential LSA is checking now, 0 if none (§6.6) */
  char handed_user[LK_USER_MAX + 1];
  int password_mode;  /* "Sign in with my password": the PIN field takes the Windows password */
  WCHAR password[LK_PASSWORD_UNITS_MAX + 1];
  int capture_pending; /* a typed password went to LSA: the agent gets it only if ReportResult says LSA took it */
  char capture_user[LK_USER_MAX + 1];
  struct lk_logon_credential typed;
};

static struct lk_tile *tile_of(ICredentialProviderCredential *self) { return (struct lk_tile *)self; }
ICredentialProviderCredential *lk_tile_interface(struct lk_tile *tile) { return &tile->iface; }

int lk_tile_has_credential(struct lk_tile *tile) {
  EnterCriticalSection(&tile->lock);
  int ready = tile->has_credential;
  LeaveCriticalSection(&tile->lock);
  return ready;
}

static void set_status_utf8(struct lk_tile *t, const char *utf8) {
  t->status[0] = L'\0';
  if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8, -1, t->status, STATUS_MAX + 1) == 0) t->status[0] = L'\0';
}

/* Tells LogonUI what changed (only on LogonUI's own calls: the worker goes through CredentialsChanged). */
static void show(struct lk_tile *t) {
  if (t->events == NULL) return;
  ICredentialProviderCredentialEvents *e = t->events;
  e->lpVtbl->SetFieldString(e, &t->iface, LK_FIELD_STATUS, t->status);
  e->lpVtbl->SetFieldInteractiveState(e, &t->iface, LK_FIELD_PIN, t->pin_enabled || t->password_mode ? CPFIS_FOCUSED : CPFIS_DISABLED);
  e->lpVtbl->SetFieldState(e, &t->iface, LK_FIELD_PHONE, t->phone_link ? CPFS_DISPLAY_IN_SELECTED_TILE : CPFS_HIDDEN);
  e->lpVtbl->SetFieldState(e, &t->iface, LK_FIELD_PASSWORD_LINK, t->options.valid && !t->password_mode ? CPFS_DISPLAY_IN_SELECTED_TILE : CPFS_HIDDEN);
}

static void clear_pin(struct lk_tile *t) {
  lk_wipe(t->pin, sizeof t->pin);
  lk_wipe(t->password, sizeof t->password);
  if (t->events != NULL) t->events->lpVtbl->SetFieldString(t->events, &t->iface, LK_FIELD_PIN, L"");
}

/* The account to ask about, as UTF-8 `name` or `DOMAIN\name`; 0 when there is none that can travel. */
static int account_utf8(struct lk_tile *t, char *out, size_t capacity) {
  WCHAR account[LK_USER_MAX + 1] = L"";
  if (t->scenario == CPUS_UNLOCK_WORKSTATION) {
    LPWSTR user = NULL, domain = NULL;
    DWORD bytes = 0;
    if (WTSQuerySessionInformationW(WTS_CURRENT_SERVER_HANDLE, WTS_CURRENT_SESSION, WTSUserName, &user, &bytes) &&
        WTSQuerySessionInformationW(WTS_CURRENT_SERVER_HANDLE, WTS_CURRENT_SESSION, WTSDomainName, &domain, &bytes) &&
        user[0] != L'\0')
      swprintf(account, LK_USER_MAX + 1, domain[0] != L'\0' ? L"%ls\\%ls" : L"%ls%ls", domain, user);
    if (user != NULL) WTSFreeMemory(user);
    if (domain != NULL) WTSFreeMemory(domain);
  } else {
    wcscpy(account, t->user);
  }
  if (account[0] == L'\0') return 0;
  int n = WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, account, -1, out, (int)capacity, NULL, NULL);
  return n > 0 && lk_valid_user(out);
}

static const char *context_of(const struct lk_tile *t) { return t->scenario == CPUS_LOGON ? "cp:logon" : "cp:unlock"; }

/* ---- the phone, on a worker thread ---- */

/* docs/pam.md "push=": with Push=auto and no OnlineWaitMs, both ways share 5 s, Bluetooth half when online could follow. */
static void phone_waits(const struct lk_options *o, int push_auto, const struct lk_view *view, DWORD *ble_wait, DWORD *online_budget) {
  *ble_wait = o->ble_wait_ms;
  *online_budget = 0;
  if (push_auto && !o->online_wait_set) {
    DWORD share = view->online ? LK_AUTO_PHONE_BUDGET_MS / 2 : LK_AUTO_PHONE_BUDGET_MS;
    if (*ble_wait > share) *ble_wait = share;
    *online_budget = LK_AUTO_PHONE_BUDGET_MS;
  }
}

struct phone_job {
  struct lk_tile *tile;
  struct lk_options options;
  int push_auto;
  char user[LK_USER_MAX + 1];
  char context[16];
};

static DWORD WINAPI phone_worker(void *argument) {
  struct phone_job *job = argument;
  struct lk_tile *t = job->tile;
  struct lk_attempt *attempt = lk_attempt_new();
  struct lk_logon_credential credential;
  const char *message = LK_SAY_FALLBACK;
  int verdict = 0;
  ULONGLONG started = GetTickCount64();
  if (attempt != NULL) {
    struct lk_view view;
    lk_view_after_status(lk_attempt_status(attempt, &job->options, job->user), &attempt->reply, job->push_auto,
                         job->options.ble_wait_ms > 0, job->options.online_wait_ms > 0, &view);
    message = view.message;
    DWORD ble_wait, budget;
    phone_waits(&job->options, job->push_auto, &view, &ble_wait, &budget);
    int go_on = 1;
    if (view.ble) {
      enum lk_exchange e = lk_attempt_phone(attempt, LK_OP_BLE_AUTH, job->user, job->context, ble_wait);
      verdict = lk_decide(e, &attempt->reply, attempt->request_id, attempt->body, attempt->body_length, &credential, &message);
      go_on = !verdict && lk_phone_may_continue(e, &attempt->reply);
      if (e != LK_EXCHANGED && go_on) go_on = lk_attempt_status(attempt, &job->options, job->user) == LK_EXCHANGED;
    }
    if (view.online && go_on) {
      DWORD wait = job->options.online_wait_ms;
      ULONGLONG spent = GetTickCount64() - started;
      if (budget > 0) wait = spent >= budget ? 0 : (wait < budget - spent ? wait : (DWORD)(budget - spent));
      if (wait > 0) {
        enum lk_exchange e = lk_attempt_phone(attempt, LK_OP_ONLINE_AUTH, job->user, job->context, wait);
        verdict = lk_decide(e, &attempt->reply, attempt->request_id, attempt->body, attempt->body_length, &credential, &message);
      }
    }
  }
  EnterCriticalSection(&t->lock);
  set_status_utf8(t, verdict ? "" : message);
  if (verdict) {
    t->credential = credential;
    t->has_credential = 1;
    t->credential_generation = (attempt->reply.present & LK_HAS_GENERATION) ? attempt->reply.generation : 0;
    lstrcpynA(t->credential_user, job->user, sizeof t->credential_user);
  }
  t->phone_busy = 0;
  LeaveCriticalSection(&t->lock);
  lk_wipe(&credential, sizeof credential);
  lk_attempt_free(attempt);
  lk_notify_credentials_changed(t->notify);
  lk_wipe(job, sizeof *job);
  HeapFree(GetProcessHeap(), 0, job);
  t->iface.lpVtbl->Release(&t->iface);
  lk_dll_release();
  return 0;
}

/* Starts the worker unless one runs; the caller holds the lock. 0 when it could not start. */
static int start_phone(struct lk_tile *t, const char *user) {
  if (t->phone_busy) return 1;
  struct phone_job *job = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof *job);
  if (job == NULL) return 0;
  job->tile = t;
  job->options = t->options;
  job->push_auto = t->options.push_auto;
  strcpy(job->user, user);
  strcpy(job->context, context_of(t));
  t->iface.lpVtbl->AddRef(&t->iface);
  lk_dll_hold();
  HANDLE thread = CreateThread(NULL, 0, phone_worker, job, 0, NULL);
  if (thread == NULL) {
    HeapFree(GetProcessHeap(), 0, job);
    t->iface.lpVtbl->Release(&t->iface); /* the AddRef above; the caller still holds its own */
    lk_dll_release();
    return 0;
  }
  CloseHandle(thread);
  t->phone_busy = 1;
  set_status_utf8(t, LK_SAY_APPROVE);
  return 1;
}

/* ---- status when the tile is selected ---- */

static void refresh(struct lk_tile *t) {
  char user[LK_USER_MAX + 1];
  if (!t->options.valid) {
    t->pin_enabled = t->phone_link = 0;
    set_status_utf8(t, LK_SAY_BAD_OPTIONS);
    return;
  }
  if (t->scenario == CPUS_LOGON || !account_utf8(t, user, sizeof user)) {
    /* logon: nothing to ask until a name is typed */
    t->pin_enabled = t->phone_link = t->scenario == CPUS_LOGON;
    set_status_utf8(t, t->scenario == CPUS_LOGON ? "" : LK_SAY_FALLBACK);
    return;
  }
  struct lk_attempt *attempt = lk_attempt_new();
  struct lk_view view;
  enum lk_exchange e = attempt != NULL ? lk_attempt_status(attempt, &t->options, user) : LK_NOT_EXCHANGED;
  lk_view_after_status(e, attempt != NULL ? &attempt->reply : NULL, t->options.push_auto, t->options.ble_wait_ms > 0,
                       t->options.online_wait_ms > 0, &view);
  t->pin_enabled = view.pin_enabled;
  t->phone_link = view.phone_link;
  set_status_utf8(t, view.message);
  lk_attempt_free(attempt);
  if (view.phone_first && !start_phone(t, user)) set_status_utf8(t, LK_SAY_FALLBACK);
}

/* ---- ICredentialProviderCredential ---- */

static void tile_free(void *object) {
  struct lk_tile *t = object;
  if (t->events != NULL) t->events->lpVtbl->Release(t->events);
  lk_notify_release(t->notify);
  DeleteCriticalSection(&t->lock);
  lk_wipe(t, sizeof *t);
  HeapFree(GetProcessHeap(), 0, t);
}

static HRESULT STDMETHODCALLTYPE tile_query(ICredentialProviderCredential *self, REFIID riid, void **out) {
  return lk_com_query(self, &tile_of(self)->com, riid, out);
}
static ULONG STDMETHODCALLTYPE tile_add_ref(ICredentialProviderCredential *self) { return lk_com_add_ref(&tile_of(self)->com); }
static ULONG STDMETHODCALLTYPE tile_release(ICredentialProviderCredential *self) { return lk_com_release(self, &tile_of(self)->com); }

static HRESULT STDMETHODCALLTYPE tile_advise(ICredentialProviderCredential *self, ICredentialProviderCredentialEvents *events) {
  struct lk_tile *t = tile_of(self);
  EnterCriticalSection(&t->lock);
  if (t->events != NULL) t->events->lpVtbl->Release(t->events);
  t->events = events;
  if (events != NULL) events->lpVtbl->AddRef(events);
  LeaveCriticalSection(&t->lock);
  return S_OK;
}

static HRESULT STDMETHODCALLTYPE tile_unadvise(ICredentialProviderCredential *self) { return tile_advise(self, NULL); }

static HRESULT STDMETHODCALLTYPE tile_set_selected(ICredentialProviderCredential *self, BOOL *auto_logon) {
  struct lk_tile *t = tile_of(self);
  EnterCriticalSection(&t->lock);
  *auto_logon = t->has_credential;
  if (!t->has_credential && !t->phone_busy) refresh(t);
  show(t);
  LeaveCriticalSection(&t->lock);
  return S_OK;
}

static HRESULT STDMETHODCALLTYPE tile_set_deselected(ICredentialProviderCredential *self) {
  struct lk_tile *t = tile_of(self);
  EnterCriticalSection(&t->lock);
  clear_pin(t);
  t->password_mode = 0;
  LeaveCriticalSection(&t->lock);
  return S_OK;
}

static HRESULT STDMETHODCALLTYPE tile_field_state(ICredentialProviderCredential *self, DWORD field,
                                                  CREDENTIAL_PROVIDER_FIELD_STATE *state,
                                                  CREDENTIAL_PROVIDER_FIELD_INTERACTIVE_STATE *interactive) {
  struct lk_tile *t = tile_of(self);
  if (field >= LK_FIELD_COUNT) return E_INVALIDARG;
  EnterCriticalSection(&t->lock);
  *interactive = CPFIS_NONE;
  switch (field) {
  case LK_FIELD_TITLE: *state = CPFS_DISPLAY_IN_BOTH; break;
  case LK_FIELD_USER: *state = t->scenario == CPUS_LOGON ? CPFS_DISPLAY_IN_SELECTED_TILE : CPFS_HIDDEN; break;
  case LK_FIELD_PIN:
    *state = CPFS_DISPLAY_IN_SELECTED_TILE;
    *interactive = t->pin_enabled || t->password_mode ? CPFIS_FOCUSED : CPFIS_DISABLED;
    break;
  case LK_FIELD_PHONE: *state = t->phone_link ? CPFS_DISPLAY_IN_SELECTED_TILE : CPFS_HIDDEN; break;
  case LK_FIELD_PASSWORD_LINK:
    *state = t->options.valid && !t->password_mode ? CPFS_DISPLAY_IN_SELECTED_TILE : CPFS_HIDDEN;
    break;
  default: *state = CPFS_DISPLAY_IN_SELECTED_TILE; break;
  }
  LeaveCriticalSection(&t->lock);
  return S_OK;
}

static HRESULT dup_string(const WCHAR *text, LPWSTR *out) {
  size_t bytes = (wcslen(text) + 1) * sizeof(WCHAR);
  *out = CoTaskMemAlloc(bytes);
  if (*out == NULL) return E_OUTOFMEMORY;
  CopyMemory(*out, text, bytes);
  return S_OK;
}

static HRESULT STDMETHODCALLTYPE tile_string_value(ICredentialProviderCredential *self, DWORD field, LPWSTR *value) {
  struct lk_tile *t = tile_of(self);
  if (value == NULL) return E_POINTER;
  *value = NULL;
  HRESULT result = E_INVALIDARG;
  EnterCriticalSection(&t->lock);
  switch (field) {
  case LK_FIELD_TITLE: result = dup_string(L"Latchkey", value); break;
  case LK_FIELD_USER: result = dup_string(t->user, value); break;
  case LK_FIELD_PIN: result = dup_string(L"", value); break; /* never handed back */
  case LK_FIELD_PHONE: result = dup_string(L"Approve on my phone", value); break;
  case LK_FIELD_PASSWORD_LINK: result = dup_string(L"Sign in with my password", value); break;
  case LK_FIELD_STATUS: result = dup_string(t->status, value); break;
  default: break;
  }
  LeaveCriticalSection(&t->lock);
  return result;
}

static HRESULT STDMETHODCALLTYPE tile_bitmap_value(ICredentialProviderCredential *self, DWORD field, HBITMAP *bitmap) {
  (void)self, (void)field, (void)bitmap;
  return E_NOTIMPL;
}

static HRESULT STDMETHODCALLTYPE tile_checkbox_value(ICredentialProviderCredential *self, DWORD field, BOOL *checked, LPWSTR *label) {
  (void)self, (void)field, (void)checked, (void)label;
  return E_NOTIMPL;
}

static HRESULT STDMETHODCALLTYPE tile_submit_value(ICredentialProviderCredential *self, DWORD field, DWORD *adjacent_to) {
  (void)self;
  if (field != LK_FIELD_SUBMIT) return E_INVALIDARG;
  *adjacent_to = LK_FIELD_PIN;
  return S_OK;
}

static HRESULT STDMETHODCALLTYPE tile_combo_count(ICredentialProviderCredential *self, DWORD field, DWORD *items, DWORD *selected) {
  (void)self, (void)field, (void)items, (void)selected;
  return E_NOTIMPL;
}

static HRESULT STDMETHODCALLTYPE tile_combo_at(ICredentialProviderCredential *self, DWORD field, DWORD item, LPWSTR *value) {
  (void)self, (void)field, (void)item, (void)value;
  return E_NOTIMPL;
}

static HRESULT STDMETHODCALLTYPE tile_set_string(ICredentialProviderCredential *self, DWORD field, LPCWSTR value) {
  struct lk_tile *t = tile_of(self);
  if (field != LK_FIELD_USER && field != LK_FIELD_PIN) return E_INVALIDARG;
  if (value == NULL) return E_INVALIDARG;
  EnterCriticalSection(&t->lock);
  /* in password mode the PIN field holds the Windows password (up to its 256 units) */
  int password = field == LK_FIELD_PIN && t->password_mode;
  WCHAR *target = field == LK_FIELD_USER ? t->user : password ? t->password : t->pin;
  size_t capacity = field == LK_FIELD_USER ? LK_USER_MAX : password ? LK_PASSWORD_UNITS_MAX : PIN_UNITS_MAX;
  lk_wipe(target, (capacity + 1) * sizeof(WCHAR));
  /* longer than any PIN or name can be: nothing is kept, and the PIN is refused unsent (as PAM's > 64 bytes) */
  size_t length = wcsnlen(value, capacity + 1);
  if (length <= capacity) wcsncpy(target, value, capacity);
  if (field == LK_FIELD_PIN && !password) t->pin_overlong = length > capacity;
  LeaveCriticalSection(&t->lock);
  return S_OK;
}

static HRESULT STDMETHODCALLTYPE tile_set_checkbox(ICredentialProviderCredential *self, DWORD field, BOOL checked) {
  (void)self, (void)field, (void)checked;
  return E_NOTIMPL;
}

static HRESULT STDMETHODCALLTYPE tile_set_combo(ICredentialProviderCredential *self, DWORD field, DWORD selected) {
  (void)self, (void)field, (void)selected;
  return E_NOTIMPL;
}

static HRESULT STDMETHODCALLTYPE tile_command_link(ICredentialProviderCredential *self, DWORD field) {
  struct lk_tile *t = tile_of(self);
  char user[LK_USER_MAX + 1];
  if (field != LK_FIELD_PHONE && field != LK_FIELD_PASSWORD_LINK) return E_INVALIDARG;
  EnterCriticalSection(&t->lock);
  if (field == LK_FIELD_PASSWORD_LINK) {
    /* docs/windows.md §6.1: the PIN field becomes the password field */
    clear_pin(t);
    t->password_mode = t->options.valid;
    set_status_utf8(t, t->options.valid ? LK_SAY_TYPE_PASSWORD : LK_SAY_BAD_OPTIONS);
  } else if (!t->options.valid) set_status_utf8(t, LK_SAY_BAD_OPTIONS);
  else if (!account_utf8(t, user, sizeof user)) set_status_utf8(t, t->scenario == CPUS_LOGON ? LK_SAY_TYPE_USER : LK_SAY_FALLBACK);
  else if (!start_phone(t, user)) set_status_utf8(t, LK_SAY_FALLBACK);
  show(t);
  LeaveCriticalSection(&t->lock);
  return S_OK;
}

static void say(const char *utf8, CREDENTIAL_PROVIDER_STATUS_ICON icon, LPWSTR *text, CREDENTIAL_PROVIDER_STATUS_ICON *out_icon) {
  WCHAR wide[STATUS_MAX + 1] = L"";
  if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8, -1, wide, STATUS_MAX + 1) == 0) wide[0] = L'\0';
  if (text != NULL && dup_string(wide, text) != S_OK) *text = NULL;
  if (out_icon != NULL) *out_icon = icon;
}

/* A PIN from the field, as UTF-8 bytes; 0 when there is none that can travel. */
static size_t pin_utf8(const struct lk_tile *t, char *out, size_t capacity) {
  int n = WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, t->pin, -1, out, (int)capacity, NULL, NULL);
  return n > 1 && (size_t)(n - 1) <= LK_PIN_MAX ? (size_t)(n - 1) : 0;
}

/*
 * The PIN path: connect, status, verify, decide. 1 with *credential (and the capture it came from in
 * *generation, 0 if the agent did not say) only when lk_decide() says so;
 * otherwise the sentence to show is copied into said (the reply it came from is wiped here).
 */
static int check_pin(struct lk_tile *t, const char *user, struct lk_logon_credential *credential, char said[LK_MESSAGE_MAX + 1],
                     uint32_t *generation) {
  const char *message = LK_SAY_FALLBACK;
  char pin[4 * PIN_UNITS_MAX + 1];
  size_t pin_length = pin_utf8(t, pin, sizeof pin);
  clear_pin(t);
  int verdict = 0;
  struct lk_attempt *attempt = lk_attempt_new();
  if (attempt != NULL && pin_length > 0 && lk_attempt_status(attempt, &t->options, user) == LK_EXCHANGED) {
    enum lk_exchange e = lk_attempt_verify(attempt, &t->options, user, (const uint8_t *)pin, pin_length, context_of(t));
    verdict = lk_decide(e, &attempt->reply, attempt->request_id, attempt->body, attempt->body_length, credential, &message);
    *generation = verdict && (attempt->reply.present & LK_HAS_GENERATION) ? attempt->reply.generation : 0;
  } else if (pin_length == 0) {
    message = LK_SAY_WRONG_PIN;
  }
  lstrcpynA(said, message, LK_MESSAGE_MAX + 1);
  lk_wipe(pin, sizeof pin);
  lk_attempt_free(attempt);
  return verdict;
}

/*
 * "Sign in with my password": the account (`DOMAIN\name`, or `name` on this computer) and the
 * password typed, as any password tile would pack them. 0 when there is no password or account.
 */
static int typed_password(struct lk_tile *t, const char *user, struct lk_logon_credential *out) {
  WCHAR account[LK_USER_MAX + 1];
  ZeroMemory(out, sizeof *out);
  size_t password_units = wcsnlen(t->password, LK_PASSWORD_UNITS_MAX + 1);
  if (password_units == 0 || password_units > LK_PASSWORD_UNITS_MAX ||
      MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, user, -1, account, LK_USER_MAX + 1) == 0)
    return 0;
  WCHAR *slash = wcschr(account, L'\\');
  const WCHAR *name = slash != NULL ? slash + 1 : account;
  if ((slash != NULL && slash - account > LK_DOMAIN_UNITS_MAX) || wcslen(name) > LK_USER_UNITS_MAX) return 0;
  if (slash != NULL) {
    *slash = L'\0';
    wcsncpy((WCHAR *)out->domain, account, LK_DOMAIN_UNITS_MAX);
  } else {
    DWORD units = LK_DOMAIN_UNITS_MAX + 1;
    if (!GetComputerNameW((WCHAR *)out->domain, &units)) return 0;
  }
  wcsncpy((WCHAR *)out->user, name, LK_USER_UNITS_MAX);
  CopyMemory(out->password, t->password, password_units * sizeof(WCHAR));
  out->domain_units = wcslen((WCHAR *)out->domain);
  out->user_units = wcslen((WCHAR *)out->user);
  out->password_units = password_units;
  return out->domain_units > 0 && out->user_units > 0;
}

/* Windows refused the handed-back credential of capture `generation`: the agent marks it stale (op 16, §6.6). */
static void report_refused(const struct lk_options *options, const char *user, uint32_t generation) {
  struct lk_attempt *attempt = lk_attempt_new();
  if (attempt != NULL && lk_attempt_status(attempt, options, user) == LK_EXCHANGED)
    lk_attempt_refused(attempt, options, user, generation);
  lk_attempt_free(attempt);
}

/* After LSA accepted the typed password: hand it to the agent (op 15) to keep wrapped; nothing to show either way. */
static void hand_over_password(const struct lk_options *options, const char *user, const struct lk_logon_credential *typed) {
  char password[4 * LK_PASSWORD_UNITS_MAX + 1];
  int n = WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, (const WCHAR *)typed->password, (int)typed->password_units,
                              password, (int)sizeof password - 1, NULL, NULL);
  struct lk_attempt *attempt = n > 0 && n <= LK_PASSWORD_MAX ? lk_attempt_new() : NULL;
  if (attempt != NULL && lk_attempt_status(attempt, options, user) == LK_EXCHANGED)
    lk_attempt_capture(attempt, options, user, (const uint8_t *)password, (size_t)n);
  lk_wipe(password, sizeof password);
  lk_attempt_free(attempt);
}

static HRESULT STDMETHODCALLTYPE tile_get_serialization(ICredentialProviderCredential *self,
                                                        CREDENTIAL_PROVIDER_GET_SERIALIZATION_RESPONSE *response,
                                                        CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION *serialization,
                                                        LPWSTR *text, CREDENTIAL_PROVIDER_STATUS_ICON *icon) {
  struct lk_tile *t = tile_of(self);
  struct lk_logon_credential credential;
  const char *message = LK_SAY_FALLBACK;
  char user[LK_USER_MAX + 1], said[LK_MESSAGE_MAX + 1], handed_user[LK_USER_MAX + 1] = "";
  int verdict = 0, asking_phone = 0;
  uint32_t generation = 0; /* of a handed-back credential, never of a typed password */
  *response = CPGSR_NO_CREDENTIAL_NOT_FINISHED;
  if (text != NULL) *text = NULL;
  if (icon != NULL) *icon = CPSI_NONE;
  ZeroMemory(serialization, sizeof *serialization);
  EnterCriticalSection(&t->lock);
  if (t->has_credential) {
    credential = t->credential;
    lk_wipe(&t->credential, sizeof t->credential);
    t->has_credential = 0;
    verdict = 1;
    generation = t->credential_generation;
    lstrcpynA(handed_user, t->credential_user, sizeof handed_user);
    t->credential_generation = 0;
  } else if (!t->options.valid) {
    message = LK_SAY_BAD_OPTIONS;
  } else if (!account_utf8(t, user, sizeof user)) {
    message = t->scenario == CPUS_LOGON ? LK_SAY_TYPE_USER : LK_SAY_FALLBACK;
  } else if (t->password_mode) {
    verdict = typed_password(t, user, &credential);
    clear_pin(t);
    message = LK_SAY_TYPE_PASSWORD;
    lk_wipe(&t->typed, sizeof t->typed);
    t->capture_pending = verdict;
    if (verdict) {
      t->typed = credential;
      lstrcpynA(t->capture_user, user, sizeof t->capture_user);
    }
  } else if (t->pin_overlong) {
    t->pin_overlong = 0;
    message = LK_SAY_WRONG_PIN;
  } else if (t->pin[0] == L'\0') {
    /* Enter with no PIN asks the phone when one could approve (docs/pam.md "push=ask") */
    asking_phone = t->phone_link && start_phone(t, user);
    message = asking_phone ? LK_SAY_APPROVE : LK_SAY_TYPE_PIN;
    show(t);
  } else {
    verdict = check_pin(t, user, &credential, said, &generation);
    message = said;
    lstrcpynA(handed_user, user, sizeof handed_user);
  }
  LeaveCriticalSection(&t->lock);
  HRESULT result = S_OK;
  if (verdict) {
    result = lk_pack_kerb_logon(t->scenario, &credential, &CLSID_LatchkeyProvider, serialization);
    EnterCriticalSection(&t->lock);
    t->handed_generation = result == S_OK ? generation : 0;
    lstrcpynA(t->handed_user, handed_user, sizeof t->handed_user);
    LeaveCriticalSection(&t->lock);
    if (result == S_OK) *response = CPGSR_RETURN_CREDENTIAL_FINISHED;
    else {
      say(LK_SAY_FALLBACK, CPSI_ERROR, text, icon);
      EnterCriticalSection(&t->lock);
      lk_wipe(&t->typed, sizeof t->typed);
      t->capture_pending = 0;
      LeaveCriticalSection(&t->lock);
    }
    result = S_OK; /* a failure is a status for the person, never an error LogonUI must handle */
  } else {
    say(message, asking_phone ? CPSI_NONE : CPSI_ERROR, text, icon);
  }
  lk_wipe(&credential, sizeof credential);
  return result;
}

static HRESULT STDMETHODCALLTYPE tile_report_result(ICredentialProviderCredential *self, LONG status, LONG substatus,
                                                    LPWSTR *text, CREDENTIAL_PROVIDER_STATUS_ICON *icon) {
  struct lk_tile *t = tile_of(self);
  struct lk_logon_credential typed;
  char user[LK_USER_MAX + 1];
  (void)substatus;
  if (text != NULL) *text = NULL;
  if (icon != NULL) *icon = CPSI_NONE;
  EnterCriticalSection(&t->lock);
  int typed_one = t->capture_pending;
  uint32_t handed = t->handed_generation;
  char handed_user[LK_USER_MAX + 1];
  lstrcpynA(handed_user, t->handed_user, sizeof handed_user);
  t->handed_generation = 0;
  typed = t->typed;
  lstrcpynA(user, t->capture_user, sizeof user);
  lk_wipe(&t->typed, sizeof t->typed);
  t->capture_pending = 0;
  if (typed_one && status == 0) t->password_mode = 0;
  struct lk_options options = t->options;
  LeaveCriticalSection(&t->lock);
  /* A password the person typed: LSA accepted it, so the agent keeps it (docs/windows.md §6.1, §6.6);
     refused, LogonUI says why itself. A handed-back one refused: the saved password is stale, and
     the agent hands it back no more until the next capture (op 16, docs/windows.md §6.6). */
  if (typed_one && status == 0) hand_over_password(&options, user, &typed);
  else if (!typed_one && status != 0) {
    say(LK_SAY_STALE, CPSI_ERROR, text, icon);
    if (handed != 0) report_refused(&options, handed_user, handed);
  }
  lk_wipe(&typed, sizeof typed);
  lk_wipe(user, sizeof user);
  return S_OK;
}

static const ICredentialProviderCredentialVtbl tile_vtbl = {
    tile_query,        tile_add_ref,        tile_release,          tile_advise,          tile_unadvise,
    tile_set_selected, tile_set_deselected, tile_field_state,      tile_string_value,    tile_bitmap_value,
    tile_checkbox_value, tile_submit_value, tile_combo_count,      tile_combo_at,        tile_set_string,
    tile_set_checkbox, tile_set_combo,      tile_command_link,     tile_get_serialization, tile_report_result,
};

HRESULT lk_tile_new(CREDENTIAL_PROVIDER_USAGE_SCENARIO scenario, const struct lk_options *options,
                    struct lk_notify *notify, struct lk_tile **out) {
  struct lk_tile *t = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof *t);
  if (t == NULL) return E_OUTOFMEMORY;
  t->iface.lpVtbl = &tile_vtbl;
  t->scenario = scenario;
  t->options = *options;
  t->pin_enabled = 1;
  t->phone_link = scenario == CPUS_LOGON;
  InitializeCriticalSection(&t->lock);
  lk_notify_hold(notify);
  t->notify = notify;
  lk_com_init(&t->com, &IID_ICredentialProviderCredential, tile_free);
  *out = t;
  return S_OK;
}
