/*
 * libFuzzer harness: the option parser (native/pam/options.c). The input is split at NUL
 * bytes into stack-line arguments. Checks: a parsed result is within the documented limits,
 * and an error line is short printable ASCII (it goes to syslog as it is).
 *   clang -fsanitize=fuzzer,address,undefined native/pam/fuzz/fuzz-options.c native/pam/options.c native/pam/ipc-codec.c
 */
#include "../ipc-codec.h"
#include "../options.h"

#include <stdlib.h>
#include <string.h>

#define MAX_ARGS 8
#define CHECK(cond)                                                                            \
  do {                                                                                         \
    if (!(cond)) __builtin_trap();                                                             \
  } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *copy = malloc(size + 1);
  const char *argv[MAX_ARGS];
  int argc = 0;
  if (copy == NULL) return 0;
  memcpy(copy, data, size);
  copy[size] = '\0';
  for (size_t start = 0; argc < MAX_ARGS && start <= size;) {
    argv[argc++] = copy + start;
    start += strlen(copy + start) + 1;
  }
  struct lk_options options;
  char error[LK_OPTION_ERROR_MAX];
  if (lk_parse_options(argc, argv, &options, error, sizeof error) == 0) {
    CHECK(options.timeout_ms >= LK_TIMEOUT_MIN_MS && options.timeout_ms <= LK_TIMEOUT_MAX_MS);
    CHECK(options.online_wait_ms <= LK_ONLINE_WAIT_MAX_MS && options.ble_wait_ms <= LK_BLE_WAIT_MAX_MS);
    CHECK(options.socket_path[0] == '/' && strlen(options.socket_path) <= LK_SOCKET_PATH_MAX);
    size_t prompt = strlen(options.prompt);
    CHECK(prompt >= 1 && prompt <= LK_PROMPT_MAX);
    CHECK(lk_valid_text((const uint8_t *)options.prompt, prompt));
    CHECK(options.debug == 0 || options.debug == 1);
  } else {
    size_t n = strnlen(error, sizeof error);
    CHECK(n > 0 && n < sizeof error);
    for (size_t i = 0; i < n; i++) CHECK(error[i] >= 0x20 && error[i] < 0x7f);
  }
  free(copy);
  return 0;
}
