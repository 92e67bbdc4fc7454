/* The agent connection kept in a PAM handle (handle-connection.h). */
#define _GNU_SOURCE
#include "handle-connection.h"

#include "ipc-codec.h"
#include "options.h"

#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define DATA_NAME "pam_latchkey.connection"

struct kept {
  struct lk_connection conn;
  pid_t pid;
  uid_t uid;
  uid_t euid;
  unsigned agent_uid;
  char socket_path[LK_SOCKET_PATH_MAX + 1];
  char user[LK_USER_MAX + 1];
};

/* pam_end, pam_set_data over it, or lk_drop_handle_connection: close this process's descriptor. */
static void cleanup(pam_handle_t *pamh, void *data, int error_status) {
  (void)pamh, (void)error_status;
  struct kept *k = data;
  lk_disconnect(&k->conn);
  free(k);
}

/*
 * The agent bound the connection to the identity that opened it (SO_PEERCRED at connect) and,
 * after the lock-screen status, to one user: another process (a fork), other uids (privileges
 * dropped), another socket or user must not inherit it.
 */
static int reusable(const struct kept *k, const char *socket_path, unsigned agent_uid,
                    const char *user) {
  return k->pid == getpid() && k->uid == getuid() && k->euid == geteuid() &&
         k->agent_uid == agent_uid && strcmp(k->socket_path, socket_path) == 0 &&
         strcmp(k->user, user) == 0;
}

struct lk_connection *lk_handle_connection(pam_handle_t *pamh, const char *socket_path,
                                           unsigned agent_uid, const char *user,
                                           struct lk_connection *spare) {
  const void *data = NULL;
  struct kept *k = NULL;
  if (pam_get_data(pamh, DATA_NAME, &data) == PAM_SUCCESS && data != NULL) k = (struct kept *)data;
  if (k != NULL && reusable(k, socket_path, agent_uid, user)) return &k->conn;
  if (strlen(socket_path) > LK_SOCKET_PATH_MAX || strlen(user) > LK_USER_MAX) return spare;
  if (k == NULL) {
    k = calloc(1, sizeof *k);
    if (k == NULL) return spare;
    k->conn = (struct lk_connection)LK_CONNECTION_INIT;
    if (pam_set_data(pamh, DATA_NAME, k, cleanup) != PAM_SUCCESS) {
      free(k);
      return spare;
    }
  }
  lk_disconnect(&k->conn); /* not ours to reuse: close this process's copy, start afresh */
  k->pid = getpid();
  k->uid = getuid();
  k->euid = geteuid();
  k->agent_uid = agent_uid;
  strcpy(k->socket_path, socket_path);
  strcpy(k->user, user);
  return &k->conn;
}

void lk_drop_handle_connection(pam_handle_t *pamh) {
  const void *data = NULL;
  if (pam_get_data(pamh, DATA_NAME, &data) == PAM_SUCCESS && data != NULL)
    pam_set_data(pamh, DATA_NAME, NULL, NULL); /* runs cleanup on the old data */
}
