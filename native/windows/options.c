/* docs/windows.md §4.2: one reader, defaults first, then the registry; a bad value is named. */
#include "options.h"

#include <wchar.h>

static void refuse(struct lk_options *o, const WCHAR *name, const WCHAR *rule) {
  if (!o->valid) return; /* the first problem is the one reported */
  o->valid = 0;
  swprintf(o->problem, sizeof o->problem / sizeof o->problem[0], L"%ls %ls", name, rule);
}

/* 1 with the text when the value exists as REG_SZ within max characters; 0 when absent. */
static int read_text(struct lk_options *o, HKEY key, const WCHAR *name, WCHAR *out, size_t max) {
  WCHAR buffer[LK_NAME_MAX + 2];
  DWORD type = 0, size = sizeof buffer - sizeof(WCHAR);
  LONG status = RegQueryValueExW(key, name, NULL, &type, (BYTE *)buffer, &size);
  if (status == ERROR_FILE_NOT_FOUND) return 0;
  if (status != ERROR_SUCCESS || type != REG_SZ || size % sizeof(WCHAR) != 0) {
    refuse(o, name, L"must be a text value (REG_SZ)");
    return 0;
  }
  buffer[size / sizeof(WCHAR)] = L'\0';
  size_t length = wcslen(buffer);
  if (length == 0 || length > max) {
    refuse(o, name, L"has the wrong length");
    return 0;
  }
  wcscpy(out, buffer);
  return 1;
}

static void read_number(struct lk_options *o, HKEY key, const WCHAR *name, DWORD low, DWORD high, DWORD *out, int *set) {
  DWORD type = 0, value = 0, size = sizeof value;
  LONG status = RegQueryValueExW(key, name, NULL, &type, (BYTE *)&value, &size);
  if (status == ERROR_FILE_NOT_FOUND) return;
  if (status != ERROR_SUCCESS || type != REG_DWORD || size != sizeof value) refuse(o, name, L"must be a number (REG_DWORD)");
  else if (value < low || value > high) refuse(o, name, L"is out of range");
  else {
    *out = value;
    if (set != NULL) *set = 1;
  }
}

void lk_read_options(struct lk_options *o) {
  ZeroMemory(o, sizeof *o);
  wcscpy(o->pipe, L"\\\\.\\pipe\\latchkey-agent");
  wcscpy(o->service, L"LatchkeyAgent");
  wcscpy(o->account, L"S-1-5-18");
  o->timeout_ms = LK_DEFAULT_TIMEOUT_MS;
  o->online_wait_ms = LK_DEFAULT_ONLINE_WAIT_MS;
  o->ble_wait_ms = LK_DEFAULT_BLE_WAIT_MS;
  o->valid = 1;

  HKEY key;
  if (RegOpenKeyExW(HKEY_LOCAL_MACHINE, LK_OPTIONS_KEY, 0, KEY_QUERY_VALUE, &key) != ERROR_SUCCESS) return;
  if (read_text(o, key, L"Pipe", o->pipe, LK_PIPE_MAX) && wcsncmp(o->pipe, L"\\\\.\\pipe\\", 9) != 0)
    refuse(o, L"Pipe", L"must start with \\\\.\\pipe\\");
  read_text(o, key, L"AgentService", o->service, LK_NAME_MAX);
  read_text(o, key, L"AgentAccount", o->account, LK_SID_TEXT_MAX);
  WCHAR push[8] = L"ask";
  if (read_text(o, key, L"Push", push, 4)) {
    if (wcscmp(push, L"auto") == 0) o->push_auto = 1;
    else if (wcscmp(push, L"ask") != 0) refuse(o, L"Push", L"must be ask or auto");
  }
  read_number(o, key, L"TimeoutMs", LK_TIMEOUT_MIN_MS, LK_TIMEOUT_MAX_MS, &o->timeout_ms, NULL);
  read_number(o, key, L"OnlineWaitMs", 0, LK_ONLINE_WAIT_MAX_MS, &o->online_wait_ms, &o->online_wait_set);
  read_number(o, key, L"BleWaitMs", 0, LK_BLE_WAIT_MAX_MS, &o->ble_wait_ms, NULL);
  RegCloseKey(key);
}
