/*
 * The agent connection a PAM handle keeps between pam_authenticate calls (docs/pam.md "One
 * connection per PAM handle"): a screen locker or login prompt that asks again reuses it. It is
 * used again only by the same process with the same uids, for the same socket, agent uid and
 * user; it is
 * closed by pam_setcred (authentication is over) and by pam_end.
 */
#ifndef LATCHKEY_HANDLE_CONNECTION_H
#define LATCHKEY_HANDLE_CONNECTION_H

#include "transport.h"

#include <security/pam_modules.h>

/*
 * The handle's connection, made ready for socket_path, agent_uid and user (never NULL): the kept one when
 * it may be reused, else a fresh, unconnected one. Falls back to *spare when the handle cannot
 * keep data (out of memory); the caller then disconnects *spare itself.
 */
struct lk_connection *lk_handle_connection(pam_handle_t *pamh, const char *socket_path,
                                           unsigned agent_uid, const char *user,
                                           struct lk_connection *spare);

/* Closes and forgets the handle's connection, if any. */
void lk_drop_handle_connection(pam_handle_t *pamh);

#endif
