/*
 * libFuzzer harness: the transport (native/pam/transport.c) against a hostile agent. A server
 * thread on a real Unix socket answers each exchange with the fuzz input as its reply bytes,
 * then closes; the first input byte also decides whether the transport's malloc fails.
 * Checks: no crash, hang or leak (ASan/UBSan/LSan); the request is wiped once sent; and the
 * transport accepts exactly the replies whose first frame the parser accepts.
 *   built with -Dmalloc=fuzz_malloc so that only transport.c's allocation can be made to fail
 */
#undef malloc
#include "../ipc-codec.h"
#include "../transport.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define CHECK(cond)                                                                            \
  do {                                                                                         \
    if (!(cond)) __builtin_trap();                                                             \
  } while (0)

static char socket_path[64];
static const uint8_t *volatile reply_bytes;
static volatile size_t reply_length;
static volatile int fail_malloc;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t served = PTHREAD_COND_INITIALIZER;
static unsigned long connections_served;

void *fuzz_malloc(size_t n) { return fail_malloc ? NULL : malloc(n); }

static void *serve(void *arg) {
  int listener = *(int *)arg;
  for (;;) {
    int fd = accept(listener, NULL, NULL);
    if (fd < 0) continue;
    struct timeval brief = {.tv_sec = 0, .tv_usec = 20000};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &brief, sizeof brief);
    uint8_t request[LK_REQUEST_FRAME_MAX];
    (void)!recv(fd, request, sizeof request, 0);
    for (size_t done = 0; done < reply_length;) {
      ssize_t n = send(fd, reply_bytes + done, reply_length - done, MSG_NOSIGNAL);
      if (n <= 0) break; /* the client stopped reading (header refused) */
      done += (size_t)n;
    }
    close(fd);
    pthread_mutex_lock(&lock);
    connections_served++;
    pthread_cond_signal(&served);
    pthread_mutex_unlock(&lock);
  }
  return NULL;
}

static void remove_socket(void) { unlink(socket_path); }

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  static int listener;
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  snprintf(socket_path, sizeof socket_path, "/tmp/latchkey-fuzz-%d.sock", (int)getpid());
  unlink(socket_path);
  strcpy(addr.sun_path, socket_path);
  listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener < 0 || bind(listener, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(listener, 4) != 0) abort();
  pthread_t thread;
  if (pthread_create(&thread, NULL, serve, &listener) != 0) abort();
  pthread_detach(thread);
  atexit(remove_socket);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  fail_malloc = (data[0] & 0x0f) == 0;
  reply_bytes = data + 1;
  reply_length = size - 1;
  uint8_t request[LK_REQUEST_FRAME_MAX];
  size_t n = lk_encode_verify(request, sizeof request, 7, "alice", (const uint8_t *)"K7QM2XHD", 8, "pam:fuzz");
  CHECK(n > 0);
  struct lk_reply reply;
  enum lk_parse_result parsed;
  pthread_mutex_lock(&lock);
  unsigned long before = connections_served;
  pthread_mutex_unlock(&lock);
  enum lk_exchange_result result = lk_exchange(socket_path, (unsigned)geteuid(), 2000, request, n, &reply, &parsed);
  CHECK(result != LK_EXCHANGE_TIMEOUT && result != LK_EXCHANGE_UNREACHABLE);
  /* the server must be done with this input before libFuzzer reuses its buffer */
  pthread_mutex_lock(&lock);
  while (connections_served == before) pthread_cond_wait(&served, &lock);
  pthread_mutex_unlock(&lock);
  for (size_t i = 0; i < n; i++) CHECK(request[i] == 0);

  /* what the parser makes of the first frame in the reply bytes */
  const uint8_t *bytes = data + 1;
  size_t length = size - 1;
  uint32_t body = 0;
  struct lk_reply expected;
  int complete = length >= LK_FRAME_HEADER_BYTES && lk_check_reply_header(bytes, &body) == LK_PARSE_OK &&
                 length - LK_FRAME_HEADER_BYTES >= body;
  int good = complete && lk_parse_reply(bytes, LK_FRAME_HEADER_BYTES + body, &expected) == LK_PARSE_OK;
  if (result == LK_EXCHANGE_OK) {
    CHECK(good);
    CHECK(memcmp(&reply, &expected, sizeof reply) == 0);
  } else if (!(fail_malloc && body > 0)) {
    CHECK(!good);
  }
  return 0;
}
