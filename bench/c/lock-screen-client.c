/*
 * What a lock screen's client does, timed (bench/agent-verify.mjs): the PAM module's own codec and
 * transport (native/pam), one kept connection, a lock-screen status and then a verify for each PIN
 * read from stdin, one per line. Prints one JSON object: the round trips in microseconds.
 *
 *   lock-screen-client SOCKET USER < pins
 *
 * Exit 1 when any status is not usable or any PIN is not accepted: the figures would not be
 * those of an unlock.
 */
#include "ipc-codec.h"
#include "transport.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_PINS 1000

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static void print_list(const char *name, const double *values, int n) {
  printf("\"%s\":[", name);
  for (int i = 0; i < n; i++) printf("%s%.1f", i ? "," : "", values[i]);
  printf("]");
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: lock-screen-client SOCKET USER < pins\n");
    return 2;
  }
  static double status_us[MAX_PINS], verify_us[MAX_PINS];
  char pin[LK_PIN_MAX + 2];
  int n = 0;
  struct lk_connection conn = LK_CONNECTION_INIT;
  while (n < MAX_PINS && fgets(pin, sizeof pin, stdin) != NULL) {
    pin[strcspn(pin, "\n")] = '\0';
    uint8_t frame[LK_REQUEST_FRAME_MAX];
    struct lk_reply reply;
    enum lk_parse_result parsed;
    double started = now_us();
    size_t length = lk_encode_status(frame, sizeof frame, 1, argv[2]);
    if (length == 0 || lk_exchange_on(&conn, argv[1], (unsigned)geteuid(), 5000, frame, length, &reply, &parsed) != LK_EXCHANGE_OK || !reply.usable) {
      fprintf(stderr, "lock-screen-client: status %d for PIN %d: not usable\n", (int)reply.status, n);
      return 1;
    }
    double asked = now_us();
    length = lk_encode_verify(frame, sizeof frame, 2, argv[2], (const uint8_t *)pin, strlen(pin), "bench");
    if (length == 0 || lk_exchange_on(&conn, argv[1], (unsigned)geteuid(), 5000, frame, length, &reply, &parsed) != LK_EXCHANGE_OK ||
        reply.status != LK_STATUS_ACCEPTED) {
      fprintf(stderr, "lock-screen-client: verify of PIN %d answered %d\n", n, (int)reply.status);
      return 1;
    }
    status_us[n] = asked - started;
    verify_us[n] = now_us() - asked;
    n++;
  }
  lk_disconnect(&conn);
  printf("{");
  print_list("statusUs", status_us, n);
  printf(",");
  print_list("verifyUs", verify_us, n);
  printf("}\n");
  return 0;
}
