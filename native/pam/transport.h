/*
 * One request/reply exchange with the agent over its Unix socket, bounded as a whole by a
 * deadline (docs/ipc.md "Timeouts on the client side").
 */
#ifndef LATCHKEY_TRANSPORT_H
#define LATCHKEY_TRANSPORT_H

#include "ipc-codec.h"

#include <stddef.h>
#include <stdint.h>

enum lk_exchange_result {
  LK_EXCHANGE_OK = 0,
  LK_EXCHANGE_UNREACHABLE, /* no socket, connection refused, too many connections */
  LK_EXCHANGE_TIMEOUT,     /* the deadline passed */
  LK_EXCHANGE_CLOSED,      /* the agent closed before a whole reply */
  LK_EXCHANGE_MALFORMED,   /* a reply that breaks docs/ipc.md (see *parse_result) */
  LK_EXCHANGE_IO_ERROR,    /* any other system error */
  LK_EXCHANGE_UNTRUSTED    /* the listener does not run as the agent's uid (SO_PEERCRED) */
};

const char *lk_exchange_result_name(enum lk_exchange_result result);

/*
 * A connection to the agent kept for the exchanges of one authentication (status, then the
 * decision), so each authentication pays for one connect (docs/ipc.md "Several requests on one
 * connection"). Start with LK_CONNECTION_INIT; end with lk_disconnect.
 */
struct lk_connection {
  int fd;        /* -1: not connected */
  long peer_uid; /* the listener's uid as the kernel recorded it; -1 when unknown (for the log) */
};
#define LK_CONNECTION_INIT {.fd = -1, .peer_uid = -1}

/*
 * Sends request and reads one reply on conn, connecting to socket_path first when conn is not
 * connected or the agent has closed it since the last exchange (its idle timeout runs while a
 * person types). A fresh connection is used only when the kernel says the listener runs as
 * agent_uid (SO_PEERCRED): nothing is sent to, or believed from, anyone else (docs/pam.md
 * "Who answers on the socket"). The whole exchange is bounded by timeout_ms. request may hold a PIN: it is
 * wiped as soon as it has been written (or the exchange failed before that), and nothing here
 * copies it. After any failure conn is disconnected, so a broken stream is never reused.
 */
enum lk_exchange_result lk_exchange_on(struct lk_connection *conn, const char *socket_path,
                                       unsigned agent_uid, unsigned timeout_ms, uint8_t *request,
                                       size_t request_length, struct lk_reply *reply,
                                       enum lk_parse_result *parse_result);

void lk_disconnect(struct lk_connection *conn);

/* One exchange on a connection of its own (lk_exchange_on, then lk_disconnect). */
enum lk_exchange_result lk_exchange(const char *socket_path, unsigned agent_uid, unsigned timeout_ms,
                                    uint8_t *request, size_t request_length,
                                    struct lk_reply *reply, enum lk_parse_result *parse_result);

#endif
