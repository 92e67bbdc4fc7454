/*
 * An attacker's helper for test/security/local-dos.integration.test.ts: opens COUNT connections
 * to the agent's socket, asks one lock-screen status on each (as a screen locker would), keeps
 * them open for MS milliseconds, and prints how many the agent still holds open and how many it
 * refused. Installed setuid root, it connects with root's authority on behalf of whoever ran it,
 * as su does: the agent must count those connections against the real uid.
 *   hold-connections SOCKET USER COUNT MS
 */
#define _GNU_SOURCE
#include "../../../native/pam/ipc-codec.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_COUNT 256

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: hold-connections SOCKET USER COUNT MS\n");
    return 64;
  }
  int count = atoi(argv[3]);
  int ms = atoi(argv[4]);
  if (count < 1 || count > MAX_COUNT || ms < 0) return 64;
  int fds[MAX_COUNT];
  int refused = 0, opened = 0;
  for (int i = 0; i < count; i++) {
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    strncpy(addr.sun_path, argv[1], sizeof addr.sun_path - 1);
    fds[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fds[i] < 0 || connect(fds[i], (struct sockaddr *)&addr, sizeof addr) != 0) {
      refused++;
      continue;
    }
    opened++;
    uint8_t frame[LK_REQUEST_FRAME_MAX];
    size_t n = lk_encode_status(frame, sizeof frame, (uint32_t)(i + 1), argv[2]);
    if (n == 0 || send(fds[i], frame, n, MSG_NOSIGNAL) != (ssize_t)n) continue;
    uint8_t reply[LK_FRAME_HEADER_BYTES + 4096];
    ssize_t got = recv(fds[i], reply, sizeof reply, 0);
    struct lk_reply parsed;
    uint32_t body = 0;
    if (got >= LK_FRAME_HEADER_BYTES && lk_check_reply_header(reply, &body) == LK_PARSE_OK &&
        lk_parse_reply_body(reply + LK_FRAME_HEADER_BYTES, body, &parsed) == LK_PARSE_OK &&
        (parsed.present & LK_HAS_REASON) && strcmp(parsed.reason, "too-many-connections") == 0)
      refused++;
  }
  struct timespec pause = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
  nanosleep(&pause, NULL);
  int alive = 0;
  for (int i = 0; i < count; i++) {
    if (fds[i] < 0) continue;
    struct pollfd p = {.fd = fds[i], .events = POLLIN};
    /* Between replies the agent sends nothing: anything readable is its close. */
    if (poll(&p, 1, 0) == 0) alive++;
  }
  printf("{\"euid\":%u,\"uid\":%u,\"opened\":%d,\"refused\":%d,\"alive\":%d}\n", geteuid(), getuid(), opened, refused, alive);
  return 0;
}
