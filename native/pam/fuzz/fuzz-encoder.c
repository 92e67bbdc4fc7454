/*
 * libFuzzer harness: the request encoder (native/pam/ipc-codec.c) with arbitrary user, PIN,
 * context and wait. Checks: it never writes past LK_REQUEST_FRAME_MAX (ASan), an encoded frame
 * has a consistent header and a body within MAX_REQUEST_BODY, a refused input leaves no PIN
 * bytes behind in the output buffer, online-auth/ble-auth carry their op and refuse a wait
 * over LK_WAIT_MAX_MS, and credential-capture takes 1-512 password bytes and leaves none behind
 * when it refuses, and credential-refused carries its op and refuses generation 0.
 */
#include "../ipc-codec.h"

#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                                            \
  do {                                                                                         \
    if (!(cond)) __builtin_trap();                                                             \
  } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 3) return 0;
  size_t user_length = data[0] % 300, pin_length = data[1] % 80;
  uint32_t id = data[2];
  data += 3, size -= 3;
  if (user_length + pin_length > size) return 0;
  char *user = calloc(1, user_length + 1), *context = calloc(1, size - user_length - pin_length + 1);
  uint8_t *frame = malloc(LK_REQUEST_FRAME_MAX);
  if (user == NULL || context == NULL || frame == NULL) goto done;
  memset(frame, 0xaa, LK_REQUEST_FRAME_MAX);
  memcpy(user, data, user_length);
  memcpy(context, data + user_length + pin_length, size - user_length - pin_length);
  size_t n = lk_encode_verify(frame, LK_REQUEST_FRAME_MAX, id, user, data + user_length, pin_length,
                              context[0] == '\0' ? NULL : context);
  if (n > 0) {
    CHECK(n <= LK_REQUEST_FRAME_MAX && frame[0] == LK_MAGIC_0 && frame[3] == LK_KIND_REQUEST);
    uint32_t body = ((uint32_t)frame[4] << 24) | ((uint32_t)frame[5] << 16) | ((uint32_t)frame[6] << 8) | frame[7];
    CHECK(body == n - LK_FRAME_HEADER_BYTES && body <= LK_MAX_REQUEST_BODY);
  } else {
    /* refused: whatever was written (fields, the PIN) has been wiped again */
    for (size_t i = 0; i < LK_REQUEST_FRAME_MAX; i++) CHECK(frame[i] == 0xaa || frame[i] == 0);
  }
  n = lk_encode_status(frame, LK_REQUEST_FRAME_MAX, id, user);
  CHECK(n == 0 || n <= LK_REQUEST_FRAME_MAX);
  /* the phone requests: the wait comes from the PIN bytes, sometimes over the limit */
  uint32_t wait = 0;
  for (size_t i = 0; i < pin_length && i < 4; i++) wait = (wait << 8) | data[user_length + i];
  for (int op = 0; op < 2; op++) {
    n = op == 0 ? lk_encode_online_auth(frame, LK_REQUEST_FRAME_MAX, id, user, context[0] == '\0' ? NULL : context, wait)
                : lk_encode_ble_auth(frame, LK_REQUEST_FRAME_MAX, id, user, context[0] == '\0' ? NULL : context, wait);
    if (wait > LK_WAIT_MAX_MS) CHECK(n == 0);
    if (n > 0) {
      uint32_t body = ((uint32_t)frame[4] << 24) | ((uint32_t)frame[5] << 16) | ((uint32_t)frame[6] << 8) | frame[7];
      CHECK(n <= LK_REQUEST_FRAME_MAX && body == n - LK_FRAME_HEADER_BYTES && body <= LK_MAX_REQUEST_BODY);
      /* the first field is the op: tag 0x01, length 1, then 7 or 11 */
      CHECK(frame[8] == 0x01 && frame[9] == 0 && frame[10] == 1 && frame[11] == (op == 0 ? LK_OP_ONLINE_AUTH : LK_OP_BLE_AUTH));
    }
  }
  /* credential-capture: the context bytes as a password (1-512 accepted), wiped again when refused */
  size_t password_length = size - user_length - pin_length;
  memset(frame, 0xaa, LK_REQUEST_FRAME_MAX);
  n = lk_encode_credential_capture(frame, LK_REQUEST_FRAME_MAX, id, user, (const uint8_t *)context, password_length);
  if (password_length < 1 || password_length > LK_PASSWORD_MAX) CHECK(n == 0);
  if (n > 0) {
    uint32_t body = ((uint32_t)frame[4] << 24) | ((uint32_t)frame[5] << 16) | ((uint32_t)frame[6] << 8) | frame[7];
    CHECK(n <= LK_REQUEST_FRAME_MAX && body == n - LK_FRAME_HEADER_BYTES && body <= LK_MAX_REQUEST_BODY);
    CHECK(frame[8] == 0x01 && frame[9] == 0 && frame[10] == 1 && frame[11] == LK_OP_CREDENTIAL_CAPTURE);
  } else {
    for (size_t i = 0; i < LK_REQUEST_FRAME_MAX; i++) CHECK(frame[i] == 0xaa || frame[i] == 0);
  }
  /* credential-refused: the wait's bytes as a generation, 0 refused */
  n = lk_encode_credential_refused(frame, LK_REQUEST_FRAME_MAX, id, user, wait);
  if (wait == 0) CHECK(n == 0);
  if (n > 0) {
    uint32_t body = ((uint32_t)frame[4] << 24) | ((uint32_t)frame[5] << 16) | ((uint32_t)frame[6] << 8) | frame[7];
    CHECK(n <= LK_REQUEST_FRAME_MAX && body == n - LK_FRAME_HEADER_BYTES && body <= LK_MAX_REQUEST_BODY);
    CHECK(frame[8] == 0x01 && frame[9] == 0 && frame[10] == 1 && frame[11] == LK_OP_CREDENTIAL_REFUSED);
  }
done:
  free(user), free(context), free(frame);
  return 0;
}
