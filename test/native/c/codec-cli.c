/*
 * Test driver for the module's pure parts (native/pam/ipc-codec.c, options.c): the vitest
 * suites in test/native run it against test/vectors/ipc-frames.json and option cases.
 *   codec-cli parse-reply HEX
 *   codec-cli parse-replies              (one HEX frame per stdin line, one JSON line each)
 *   codec-cli encode-status ID USER
 *   codec-cli encode-verify ID USER PIN_HEX [CONTEXT]
 *   codec-cli encode-online-auth ID USER CONTEXT WAIT_MS
 *   codec-cli encode-ble-auth ID USER CONTEXT WAIT_MS
 *   codec-cli encode-credential-capture ID USER PASSWORD_HEX
 *   codec-cli encode-credential-refused ID USER GENERATION
 *   codec-cli options [ARG...]
 * Prints one JSON object on stdout.
 */
#define _GNU_SOURCE
#include "../../../native/pam/ipc-codec.h"
#include "../../../native/pam/options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void json_string(const char *s) {
  putchar('"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') printf("\\%c", c);
    else if (c < 0x20) printf("\\u%04x", c);
    else putchar(c);
  }
  putchar('"');
}

static size_t from_hex(const char *hex, uint8_t *out, size_t capacity) {
  size_t n = strlen(hex) / 2;
  if (n > capacity) exit(2);
  for (size_t i = 0; i < n; i++) {
    unsigned v;
    if (sscanf(hex + 2 * i, "%2x", &v) != 1) exit(2);
    out[i] = (uint8_t)v;
  }
  return n;
}

static void print_hex(const uint8_t *p, size_t n) {
  printf("{\"hex\":\"");
  for (size_t i = 0; i < n; i++) printf("%02x", p[i]);
  printf("\"}\n");
}

static const char *status_name(enum lk_status s) {
  static const char *const names[] = {"ok", "accepted", "rejected", "locked", "unavailable", "error"};
  return names[s];
}

static int parse_reply(const char *hex) {
  static uint8_t frame[LK_FRAME_HEADER_BYTES + LK_MAX_REPLY_BODY + 16];
  struct lk_reply r;
  size_t n = from_hex(hex, frame, sizeof frame);
  enum lk_parse_result result = lk_parse_reply(frame, n, &r);
  printf("{\"result\":\"%s\"", lk_parse_result_name(result));
  if (result == LK_PARSE_OK) {
    printf(",\"reply\":{\"requestId\":%u,\"status\":\"%s\"", r.request_id, status_name(r.status));
    if (r.present & LK_HAS_REASON) printf(",\"reason\":\"%s\"", r.reason);
    if (r.present & LK_HAS_MESSAGE) printf(",\"message\":"), json_string(r.message);
    if (r.present & LK_HAS_REMAINING) printf(",\"remaining\":%u", r.remaining);
    if (r.present & LK_HAS_LOW) printf(",\"low\":%s", r.low ? "true" : "false");
    if (r.present & LK_HAS_RETRY_AFTER) printf(",\"retryAfter\":%u", r.retry_after);
    if (r.present & LK_HAS_OFFLINE_MODE) printf(",\"offlineMode\":%s", r.offline_mode ? "true" : "false");
    if (r.present & LK_HAS_USABLE) printf(",\"usable\":%s", r.usable ? "true" : "false");
    if (r.present & LK_HAS_ONLINE) printf(",\"online\":%s", r.online ? "true" : "false");
    if (r.present & LK_HAS_BLE) printf(",\"ble\":%s", r.ble ? "true" : "false");
    if (r.present & LK_HAS_LOCKED) printf(",\"locked\":%s", r.locked ? "true" : "false");
    if (r.present & LK_HAS_GENERATION) printf(",\"generation\":%u", r.generation);
    if (r.present & LK_HAS_STALE) printf(",\"stale\":%s", r.stale ? "true" : "false");
    printf("}");
  }
  printf("}\n");
  return 0;
}

int main(int argc, char **argv) {
  uint8_t out[LK_REQUEST_FRAME_MAX];
  if (argc >= 3 && strcmp(argv[1], "parse-reply") == 0) return parse_reply(argv[2]);
  if (argc == 2 && strcmp(argv[1], "parse-replies") == 0) {
    char *line = NULL;
    size_t size = 0;
    ssize_t n;
    while ((n = getline(&line, &size, stdin)) > 0) {
      if (line[n - 1] == '\n') line[n - 1] = '\0';
      parse_reply(line);
    }
    free(line);
    return 0;
  }
  if (argc == 4 && strcmp(argv[1], "encode-status") == 0) {
    size_t n = lk_encode_status(out, sizeof out, (uint32_t)strtoul(argv[2], NULL, 10), argv[3]);
    if (n == 0) printf("{\"hex\":null}\n");
    else print_hex(out, n);
    return 0;
  }
  if ((argc == 5 || argc == 6) && strcmp(argv[1], "encode-verify") == 0) {
    uint8_t pin[LK_PIN_MAX + 32];
    size_t pin_length = from_hex(argv[4], pin, sizeof pin);
    size_t n = lk_encode_verify(out, sizeof out, (uint32_t)strtoul(argv[2], NULL, 10), argv[3], pin,
                                pin_length, argc == 6 ? argv[5] : NULL);
    if (n == 0) printf("{\"hex\":null}\n");
    else print_hex(out, n);
    return 0;
  }
  if (argc == 5 && strcmp(argv[1], "encode-credential-capture") == 0) {
    uint8_t password[LK_PASSWORD_MAX + 32];
    size_t password_length = from_hex(argv[4], password, sizeof password);
    size_t n = lk_encode_credential_capture(out, sizeof out, (uint32_t)strtoul(argv[2], NULL, 10), argv[3],
                                            password, password_length);
    if (n == 0) printf("{\"hex\":null}\n");
    else print_hex(out, n);
    return 0;
  }
  if (argc == 5 && strcmp(argv[1], "encode-credential-refused") == 0) {
    size_t n = lk_encode_credential_refused(out, sizeof out, (uint32_t)strtoul(argv[2], NULL, 10), argv[3],
                                            (uint32_t)strtoul(argv[4], NULL, 10));
    if (n == 0) printf("{\"hex\":null}\n");
    else print_hex(out, n);
    return 0;
  }
  if (argc == 6 && (strcmp(argv[1], "encode-online-auth") == 0 || strcmp(argv[1], "encode-ble-auth") == 0)) {
    size_t (*encode)(uint8_t *, size_t, uint32_t, const char *, const char *, uint32_t) =
        strcmp(argv[1], "encode-ble-auth") == 0 ? lk_encode_ble_auth : lk_encode_online_auth;
    size_t n = encode(out, sizeof out, (uint32_t)strtoul(argv[2], NULL, 10), argv[3], argv[4],
                      (uint32_t)strtoul(argv[5], NULL, 10));
    if (n == 0) printf("{\"hex\":null}\n");
    else print_hex(out, n);
    return 0;
  }
  if (argc >= 2 && strcmp(argv[1], "options") == 0) {
    struct lk_options o;
    char error[LK_OPTION_ERROR_MAX];
    if (lk_parse_options(argc - 2, (const char **)argv + 2, &o, error, sizeof error) != 0) {
      printf("{\"ok\":false,\"error\":"), json_string(error), printf("}\n");
      return 0;
    }
    printf("{\"ok\":true,\"socket\":"), json_string(o.socket_path);
    printf(",\"agentUid\":%u,\"push\":\"%s\",\"onlineWaitSet\":%s,", o.agent_uid, o.push == LK_PUSH_AUTO ? "auto" : "ask", o.online_wait_set ? "true" : "false");
    printf("\"timeoutMs\":%u,\"onlineWaitMs\":%u,\"bleWaitMs\":%u,\"prompt\":", o.timeout_ms, o.online_wait_ms, o.ble_wait_ms), json_string(o.prompt);
    printf(",\"debug\":%s}\n", o.debug ? "true" : "false");
    return 0;
  }
  fprintf(stderr, "usage: codec-cli parse-reply HEX | encode-status ID USER | encode-verify ID USER PIN_HEX [CONTEXT] | encode-online-auth ID USER CONTEXT WAIT_MS | encode-ble-auth ID USER CONTEXT WAIT_MS | options [ARG...]\n");
  return 2;
}
