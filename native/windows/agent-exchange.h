/*
 * One attempt of the tile with the agent (docs/windows.md §4.4): connect, status with the
 * lock-screen flag (which binds the connection to this user, docs/ipc.md), then at most one
 * verify, ble-auth or online-auth on the same connection. Frames through the shared codec.
 */
#ifndef LATCHKEY_AGENT_EXCHANGE_H
#define LATCHKEY_AGENT_EXCHANGE_H

#include <windows.h>

#include "../pam/ipc-codec.h"
#include "decide.h"
#include "options.h"
#include "pipe-transport.h"

struct lk_attempt {
  struct lk_pipe pipe;
  int connected;
  uint32_t request_id;
  struct lk_reply reply;
  size_t body_length;
  uint8_t body[LK_MAX_REPLY_BODY];
};

/* A zeroed attempt on the heap (the reply body is 64 KiB); NULL without memory. */
struct lk_attempt *lk_attempt_new(void);

/* Connects and asks status for user (UTF-8); LK_EXCHANGED when a reply parsed. */
enum lk_exchange lk_attempt_status(struct lk_attempt *attempt, const struct lk_options *options, const char *user);

/* verify (the PIN is wiped from the request frame as soon as it is written). */
enum lk_exchange lk_attempt_verify(struct lk_attempt *attempt, const struct lk_options *options, const char *user,
                                   const uint8_t *pin, size_t pin_length, const char *context);

/* ble-auth (op 11) or online-auth (op 7), bounded by wait + 2 s on this side. */
enum lk_exchange lk_attempt_phone(struct lk_attempt *attempt, enum lk_op op,
                                  const char *user, const char *context, DWORD wait_ms);

/* credential-capture (op 15, docs/windows.md §6.1): the password LSA just accepted, UTF-8; the frame is wiped once written. */
enum lk_exchange lk_attempt_capture(struct lk_attempt *attempt, const struct lk_options *options, const char *user,
                                    const uint8_t *password, size_t password_length);

/* credential-refused (op 16, docs/windows.md §6.6): Windows refused the handed-back credential of capture `generation`. */
enum lk_exchange lk_attempt_refused(struct lk_attempt *attempt, const struct lk_options *options, const char *user,
                                    uint32_t generation);

/* Closes the connection and wipes the last reply; frees the attempt. */
void lk_attempt_free(struct lk_attempt *attempt);

#endif
