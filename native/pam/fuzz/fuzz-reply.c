/*
 * libFuzzer harness: the reply parser (native/pam/ipc-codec.c) on arbitrary agent replies.
 * Beyond "no crash" (ASan/UBSan), it checks what the module relies on after a parse: a known
 * status, a reason from the closed set, a message that is clean text.
 *   clang -fsanitize=fuzzer,address,undefined native/pam/fuzz/fuzz-reply.c native/pam/ipc-codec.c
 */
#include "../ipc-codec.h"

#include <string.h>

#define CHECK(cond)                                                                            \
  do {                                                                                         \
    if (!(cond)) __builtin_trap();                                                             \
  } while (0)

static void check_reply(const struct lk_reply *r) {
  CHECK(r->status >= LK_STATUS_OK && r->status <= LK_STATUS_ERROR);
  CHECK(r->low <= 1 && r->offline_mode <= 1 && r->usable <= 1 && r->locked <= 1 && r->online <= 1 && r->ble <= 1);
  CHECK((r->present & LK_HAS_BLE) || r->ble == 0);
  size_t reason = strnlen(r->reason, sizeof r->reason);
  CHECK(reason < sizeof r->reason);
  CHECK((r->present & LK_HAS_REASON) ? reason > 0 : reason == 0);
  size_t message = strnlen(r->message, sizeof r->message);
  CHECK(message < sizeof r->message);
  CHECK(lk_valid_text((const uint8_t *)r->message, message));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct lk_reply reply;
  if (lk_parse_reply(data, size, &reply) == LK_PARSE_OK) check_reply(&reply);
  /* the body alone, as the transport hands it over after a good header */
  if (lk_parse_reply_body(data, size, &reply) == LK_PARSE_OK) check_reply(&reply);
  if (size >= LK_FRAME_HEADER_BYTES) {
    uint32_t length = 0;
    if (lk_check_reply_header(data, &length) == LK_PARSE_OK) CHECK(length <= LK_MAX_REPLY_BODY);
  }
  return 0;
}
