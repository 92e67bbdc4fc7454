/*
 * Non-blocking socket I/O under one monotonic deadline. The reply header is checked before
 * any body byte is read, so a hostile length never allocates more than LK_MAX_REPLY_BODY.
 */
#define _GNU_SOURCE /* explicit_bzero, struct ucred */
#include "transport.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

const char *lk_exchange_result_name(enum lk_exchange_result result) {
  switch (result) {
  case LK_EXCHANGE_OK: return "ok";
  case LK_EXCHANGE_UNREACHABLE: return "agent unreachable";
  case LK_EXCHANGE_TIMEOUT: return "timed out";
  case LK_EXCHANGE_CLOSED: return "agent closed the connection";
  case LK_EXCHANGE_MALFORMED: return "malformed reply";
  case LK_EXCHANGE_IO_ERROR: return "I/O error";
  case LK_EXCHANGE_UNTRUSTED: return "the listener is not run by the agent's uid";
  }
  return "I/O error";
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on fd until the deadline: 1 ready, 0 timed out, -1 error. */
static int wait_for(int fd, short events, int64_t deadline) {
  for (;;) {
    int64_t left = deadline - now_ms();
    if (left <= 0) return 0;
    struct pollfd p = {.fd = fd, .events = events, .revents = 0};
    int n = poll(&p, 1, (int)left);
    if (n > 0) return 1; /* POLLERR/POLLHUP surface on the next send/recv */
    if (n == 0) return 0;
    if (errno != EINTR) return -1;
  }
}

/* The kernel's record of who listens (socket(7) SO_PEERCRED): only agent_uid is believed. */
static enum lk_exchange_result check_listener(int fd, unsigned agent_uid, long *peer_uid) {
  struct ucred cred;
  socklen_t len = sizeof cred;
  memset(&cred, 0, sizeof cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof cred)
    return LK_EXCHANGE_UNTRUSTED;
  *peer_uid = (long)cred.uid;
  return cred.uid == (uid_t)agent_uid ? LK_EXCHANGE_OK : LK_EXCHANGE_UNTRUSTED;
}

static enum lk_exchange_result connect_socket(const char *path, int64_t deadline, int *out) {
  struct sockaddr_un addr;
  size_t n = strlen(path);
  if (n >= sizeof addr.sun_path) return LK_EXCHANGE_UNREACHABLE;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, path, n);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return LK_EXCHANGE_IO_ERROR;
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    if (errno != EINPROGRESS) {
      close(fd);
      return LK_EXCHANGE_UNREACHABLE; /* ENOENT, ECONNREFUSED, EAGAIN (backlog full) */
    }
    int ready = wait_for(fd, POLLOUT, deadline);
    int error = 0;
    socklen_t len = sizeof error;
    if (ready <= 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0 || error != 0) {
      close(fd);
      return ready == 0 ? LK_EXCHANGE_TIMEOUT : LK_EXCHANGE_UNREACHABLE;
    }
  }
  *out = fd;
  return LK_EXCHANGE_OK;
}

static enum lk_exchange_result send_all(int fd, const uint8_t *data, size_t length,
                                        int64_t deadline) {
  size_t done = 0;
  while (done < length) {
    ssize_t n = send(fd, data + done, length - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += (size_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      int ready = wait_for(fd, POLLOUT, deadline);
      if (ready == 0) return LK_EXCHANGE_TIMEOUT;
      if (ready < 0) return LK_EXCHANGE_IO_ERROR;
      continue;
    }
    return (n < 0 && (errno == EPIPE || errno == ECONNRESET)) ? LK_EXCHANGE_CLOSED
                                                              : LK_EXCHANGE_IO_ERROR;
  }
  return LK_EXCHANGE_OK;
}

static enum lk_exchange_result recv_all(int fd, uint8_t *data, size_t length, int64_t deadline) {
  size_t done = 0;
  while (done < length) {
    ssize_t n = recv(fd, data + done, length - done, 0);
    if (n > 0) {
      done += (size_t)n;
      continue;
    }
    if (n == 0) return LK_EXCHANGE_CLOSED;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      int ready = wait_for(fd, POLLIN, deadline);
      if (ready == 0) return LK_EXCHANGE_TIMEOUT;
      if (ready < 0) return LK_EXCHANGE_IO_ERROR;
      continue;
    }
    return errno == ECONNRESET ? LK_EXCHANGE_CLOSED : LK_EXCHANGE_IO_ERROR;
  }
  return LK_EXCHANGE_OK;
}

static enum lk_exchange_result read_reply(int fd, int64_t deadline, struct lk_reply *reply,
                                          enum lk_parse_result *parse_result) {
  uint8_t header[LK_FRAME_HEADER_BYTES];
  uint32_t body_length = 0;
  enum lk_exchange_result result = recv_all(fd, header, sizeof header, deadline);
  if (result != LK_EXCHANGE_OK) return result;
  *parse_result = lk_check_reply_header(header, &body_length);
  if (*parse_result != LK_PARSE_OK) return LK_EXCHANGE_MALFORMED;
  uint8_t *body = NULL;
  if (body_length > 0 && (body = malloc(body_length)) == NULL) return LK_EXCHANGE_IO_ERROR;
  result = recv_all(fd, body, body_length, deadline);
  if (result == LK_EXCHANGE_OK) {
    *parse_result = lk_parse_reply_body(body, body_length, reply);
    if (*parse_result != LK_PARSE_OK) result = LK_EXCHANGE_MALFORMED;
  }
  free(body);
  return result;
}

void lk_disconnect(struct lk_connection *conn) {
  if (conn->fd >= 0) close(conn->fd);
  conn->fd = -1;
}

/*
 * Between exchanges the agent sends nothing: a connection with anything to read (end of file
 * after its idle timeout or a restart, or stray bytes) is not used again.
 */
static int still_open(int fd) {
  struct pollfd p = {.fd = fd, .events = POLLIN, .revents = 0};
  int n;
  do n = poll(&p, 1, 0);
  while (n < 0 && errno == EINTR);
  return n == 0;
}

enum lk_exchange_result lk_exchange_on(struct lk_connection *conn, const char *socket_path,
                                       unsigned agent_uid, unsigned timeout_ms, uint8_t *request,
                                       size_t request_length, struct lk_reply *reply,
                                       enum lk_parse_result *parse_result) {
  int64_t deadline = now_ms() + timeout_ms;
  enum lk_exchange_result result = LK_EXCHANGE_OK;
  *parse_result = LK_PARSE_OK;
  memset(reply, 0, sizeof *reply);
  if (conn->fd >= 0 && !still_open(conn->fd)) lk_disconnect(conn);
  if (conn->fd < 0) {
    conn->peer_uid = -1;
    result = connect_socket(socket_path, deadline, &conn->fd);
    if (result == LK_EXCHANGE_OK) result = check_listener(conn->fd, agent_uid, &conn->peer_uid);
  }
  if (result == LK_EXCHANGE_OK) result = send_all(conn->fd, request, request_length, deadline);
  explicit_bzero(request, request_length); /* sent (or never will be): the PIN goes now */
  if (result == LK_EXCHANGE_OK) result = read_reply(conn->fd, deadline, reply, parse_result);
  if (result != LK_EXCHANGE_OK) {
    lk_disconnect(conn);
    memset(reply, 0, sizeof *reply);
  }
  return result;
}

enum lk_exchange_result lk_exchange(const char *socket_path, unsigned agent_uid, unsigned timeout_ms,
                                    uint8_t *request, size_t request_length,
                                    struct lk_reply *reply, enum lk_parse_result *parse_result) {
  struct lk_connection conn = LK_CONNECTION_INIT;
  enum lk_exchange_result result = lk_exchange_on(&conn, socket_path, agent_uid, timeout_ms, request,
                                                  request_length, reply, parse_result);
  lk_disconnect(&conn);
  return result;
}
