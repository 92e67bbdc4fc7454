/*
 * The provider's side of the agent's pipe (docs/windows.md §3, §4.5): connect, make sure the
 * server is the agent before a byte goes out, then one request and one reply under one deadline.
 */
#ifndef LATCHKEY_PIPE_TRANSPORT_H
#define LATCHKEY_PIPE_TRANSPORT_H

#include <windows.h>
#include <stddef.h>
#include <stdint.h>

#include "options.h"

enum lk_pipe_result {
  LK_PIPE_OK = 0,
  LK_PIPE_UNREACHABLE,     /* no pipe, or it did not open in time */
  LK_PIPE_REFUSED_SERVER,  /* someone answers who is not the agent (§4.5): nothing was sent */
  LK_PIPE_FAILED           /* a write, a read, the deadline, or a reply header the codec refused */
};

struct lk_pipe {
  HANDLE handle;
  HANDLE event;
};

enum lk_pipe_result lk_pipe_connect(struct lk_pipe *pipe, const struct lk_options *options);

/* One request frame out, one reply in: its body (after the header check) in body[0..*length). */
enum lk_pipe_result lk_pipe_exchange(struct lk_pipe *pipe, const uint8_t *request, size_t request_length,
                                     DWORD timeout_ms, uint8_t *body, size_t capacity, size_t *length);

void lk_pipe_close(struct lk_pipe *pipe);

#endif
