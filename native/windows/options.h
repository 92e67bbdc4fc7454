/*
 * The provider's options (docs/windows.md §4.2): values under
 * HKLM\SOFTWARE\Latchkey\CredentialProvider, each optional, defaults as PAM's (docs/pam.md).
 */
#ifndef LATCHKEY_CP_OPTIONS_H
#define LATCHKEY_CP_OPTIONS_H

#include <windows.h>

#include "../pam/waits.h"

#define LK_OPTIONS_KEY L"SOFTWARE\\Latchkey\\CredentialProvider"
#define LK_PIPE_MAX 200
#define LK_NAME_MAX 256
#define LK_SID_TEXT_MAX 184

struct lk_options {
  WCHAR pipe[LK_PIPE_MAX + 1];
  WCHAR service[LK_NAME_MAX + 1];
  WCHAR account[LK_SID_TEXT_MAX + 1];
  int push_auto;
  DWORD timeout_ms, online_wait_ms, ble_wait_ms;
  int online_wait_set;
  /* 0 when a value was refused: then `problem` names it and the tile asks nothing. */
  int valid;
  WCHAR problem[128];
};

/* Defaults, then every value present under the key; never fails, sets valid = 0 instead. */
void lk_read_options(struct lk_options *options);

#endif
