/*
 * Module options (docs/pam.md "Options"), parsed in one place: defaults first, then the
 * arguments of the stack line. Pure: the caller logs the error text.
 */
#ifndef LATCHKEY_OPTIONS_H
#define LATCHKEY_OPTIONS_H

#include <stddef.h>

#include "waits.h"

#define LK_DEFAULT_SOCKET "/run/latchkey/agent.sock"
#define LK_SOCKET_PATH_MAX 100 /* the agent's own limit (docs/configuration.md `socket`) */
#define LK_DEFAULT_AGENT_UID 0u
#define LK_AGENT_UID_MAX 4294967294u /* (uid_t)-1 means "no uid" */
#define LK_DEFAULT_PROMPT "Offline PIN: "
#define LK_PROMPT_MAX 128
#define LK_OPTION_ERROR_MAX 160

/* Who goes first when a phone could approve (docs/pam.md "push="). */
enum lk_push {
  LK_PUSH_ASK = 0, /* the PIN prompt first; an empty Enter asks the phone */
  LK_PUSH_AUTO     /* the phone first, then the PIN prompt */
};

struct lk_options {
  char socket_path[LK_SOCKET_PATH_MAX + 1];
  enum lk_push push;
  int online_wait_set; /* online_wait= was given on the stack line */
  unsigned timeout_ms;
  unsigned online_wait_ms; /* 0: never try the phone online */
  unsigned ble_wait_ms;    /* 0: never try the phone over Bluetooth */
  unsigned agent_uid;      /* the listener on socket_path must run as this uid (SO_PEERCRED) */
  char prompt[LK_PROMPT_MAX + 1];
  int debug;
};

/*
 * Fills *options from argv. Returns 0, or -1 with a one-line reason in error (always
 * NUL-terminated, argument text escaped and cut short) for an unknown, repeated or
 * malformed option; *options then holds the defaults.
 */
int lk_parse_options(int argc, const char **argv, struct lk_options *options, char *error,
                     size_t error_size);

#endif
