/* docs/windows.md §4.4: the provider's exchanges with the agent, each one request and one reply. */
#include "agent-exchange.h"

#include <bcrypt.h>

#include "logon-credential.h"

/* The agent's phone exchanges may take their wait plus this much (docs/pam.md "Timeouts"). */
#define PHONE_EXCHANGE_SLACK_MS 2000

struct lk_attempt *lk_attempt_new(void) {
  struct lk_attempt *attempt = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof *attempt);
  if (attempt != NULL) attempt->pipe.handle = INVALID_HANDLE_VALUE;
  return attempt;
}

static uint32_t fresh_request_id(void) {
  uint32_t id = 0;
  if (BCryptGenRandom(NULL, (PUCHAR)&id, sizeof id, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0) id = GetTickCount() ^ GetCurrentThreadId();
  return id;
}

/* Sends the frame, wipes it, reads and parses the reply. */
static enum lk_exchange exchange(struct lk_attempt *a, uint8_t *frame, size_t frame_length, DWORD timeout_ms) {
  lk_wipe(a->body, a->body_length);
  a->body_length = 0;
  if (frame_length == 0) return LK_NOT_EXCHANGED;
  enum lk_pipe_result sent = lk_pipe_exchange(&a->pipe, frame, frame_length, timeout_ms, a->body, sizeof a->body, &a->body_length);
  lk_wipe(frame, frame_length);
  if (sent != LK_PIPE_OK || lk_parse_reply_body(a->body, a->body_length, &a->reply) != LK_PARSE_OK) {
    lk_pipe_close(&a->pipe);
    a->connected = 0;
    return LK_NOT_EXCHANGED;
  }
  return LK_EXCHANGED;
}

enum lk_exchange lk_attempt_status(struct lk_attempt *a, const struct lk_options *options, const char *user) {
  uint8_t frame[LK_REQUEST_FRAME_MAX];
  if (!a->connected) {
    if (lk_pipe_connect(&a->pipe, options) != LK_PIPE_OK) return LK_NOT_EXCHANGED;
    a->connected = 1;
  }
  a->request_id = fresh_request_id();
  return exchange(a, frame, lk_encode_status(frame, sizeof frame, a->request_id, user), options->timeout_ms);
}

enum lk_exchange lk_attempt_verify(struct lk_attempt *a, const struct lk_options *options, const char *user,
                                   const uint8_t *pin, size_t pin_length, const char *context) {
  uint8_t frame[LK_REQUEST_FRAME_MAX];
  if (!a->connected) return LK_NOT_EXCHANGED;
  a->request_id = fresh_request_id();
  size_t length = lk_encode_verify(frame, sizeof frame, a->request_id, user, pin, pin_length, context);
  return exchange(a, frame, length, options->timeout_ms);
}

enum lk_exchange lk_attempt_phone(struct lk_attempt *a, enum lk_op op,
                                  const char *user, const char *context, DWORD wait_ms) {
  uint8_t frame[LK_REQUEST_FRAME_MAX];
  if (!a->connected) return LK_NOT_EXCHANGED;
  a->request_id = fresh_request_id();
  size_t length = op == LK_OP_BLE_AUTH ? lk_encode_ble_auth(frame, sizeof frame, a->request_id, user, context, wait_ms)
                                       : lk_encode_online_auth(frame, sizeof frame, a->request_id, user, context, wait_ms);
  return exchange(a, frame, length, wait_ms + PHONE_EXCHANGE_SLACK_MS);
}

enum lk_exchange lk_attempt_capture(struct lk_attempt *a, const struct lk_options *options, const char *user,
                                    const uint8_t *password, size_t password_length) {
  uint8_t frame[LK_REQUEST_FRAME_MAX];
  if (!a->connected) return LK_NOT_EXCHANGED;
  a->request_id = fresh_request_id();
  size_t length = lk_encode_credential_capture(frame, sizeof frame, a->request_id, user, password, password_length);
  return exchange(a, frame, length, options->timeout_ms);
}

enum lk_exchange lk_attempt_refused(struct lk_attempt *a, const struct lk_options *options, const char *user,
                                    uint32_t generation) {
  uint8_t frame[LK_REQUEST_FRAME_MAX];
  if (!a->connected) return LK_NOT_EXCHANGED;
  a->request_id = fresh_request_id();
  size_t length = lk_encode_credential_refused(frame, sizeof frame, a->request_id, user, generation);
  return exchange(a, frame, length, options->timeout_ms);
}

void lk_attempt_free(struct lk_attempt *a) {
  if (a == NULL) return;
  if (a->connected) lk_pipe_close(&a->pipe);
  lk_wipe(a, sizeof *a);
  HeapFree(GetProcessHeap(), 0, a);
}
