/*
 * Options: socket=PATH, agent_uid=UID, push=ask|auto, timeout=MS, online_wait=MS, ble_wait=MS,
 * prompt=TEXT, debug
 * (docs/pam.md "Options"). Anything
 * else, a repeated option, or a value out of range is an error: the module then steps aside
 * (PAM_IGNORE) rather than guess what the administrator meant.
 */
#include "options.h"

#include "ipc-codec.h"

#include <stdio.h>
#include <string.h>

#define QUOTE_MAX 40

static void set_defaults(struct lk_options *o) {
  memset(o, 0, sizeof *o);
  strcpy(o->socket_path, LK_DEFAULT_SOCKET);
  o->timeout_ms = LK_DEFAULT_TIMEOUT_MS;
  o->online_wait_ms = LK_DEFAULT_ONLINE_WAIT_MS;
  o->ble_wait_ms = LK_DEFAULT_BLE_WAIT_MS;
  o->agent_uid = LK_DEFAULT_AGENT_UID;
  strcpy(o->prompt, LK_DEFAULT_PROMPT);
}

/* Copies at most QUOTE_MAX printable ASCII bytes of arg, others as '?', for the log line. */
static void quote(const char *arg, char out[QUOTE_MAX + 4]) {
  size_t i = 0;
  for (; arg[i] != '\0' && i < QUOTE_MAX; i++)
    out[i] = (arg[i] >= 0x20 && arg[i] < 0x7f) ? arg[i] : '?';
  if (arg[i] != '\0') {
    memcpy(out + i, "...", 3);
    i += 3;
  }
  out[i] = '\0';
}

static int fail(char *error, size_t size, const char *what, const char *arg) {
  char shown[QUOTE_MAX + 4];
  quote(arg, shown);
  if (error != NULL && size > 0) snprintf(error, size, "%s \"%s\"", what, shown);
  return -1;
}

/* Decimal digits only, no sign, no spaces, within [min, max]. */
static int parse_decimal(const char *s, unsigned *out, unsigned long min, unsigned long max) {
  unsigned long value = 0;
  if (*s == '\0') return 0;
  for (; *s != '\0'; s++) {
    if (*s < '0' || *s > '9') return 0;
    value = value * 10 + (unsigned long)(*s - '0');
    if (value > max) return 0;
  }
  if (value < min) return 0;
  *out = (unsigned)value;
  return 1;
}

static int valid_socket_path(const char *s) {
  size_t n = strnlen(s, LK_SOCKET_PATH_MAX + 1);
  return n >= 2 && n <= LK_SOCKET_PATH_MAX && s[0] == '/' && s[n - 1] != '/' &&
         lk_valid_text((const unsigned char *)s, n);
}

static int valid_prompt(const char *s) {
  size_t n = strnlen(s, LK_PROMPT_MAX + 1);
  return n >= 1 && n <= LK_PROMPT_MAX && lk_valid_text((const unsigned char *)s, n);
}

/* docs/pam.md "Options", each at most once; the message says what a refused value needs. */
enum option_id {
  OPTION_SOCKET, OPTION_AGENT_UID, OPTION_PUSH, OPTION_TIMEOUT,
  OPTION_ONLINE_WAIT, OPTION_BLE_WAIT, OPTION_PROMPT, OPTION_DEBUG,
  OPTION_COUNT
};

static const struct option {
  const char *name; /* with its '=' when it takes a value */
  const char *needs;
} options[OPTION_COUNT] = {
    [OPTION_SOCKET] = {"socket=", "socket= needs an absolute path of at most 100 bytes, got"},
    [OPTION_AGENT_UID] = {"agent_uid=", "agent_uid= needs a numeric uid, got"},
    [OPTION_PUSH] = {"push=", "push= needs ask or auto, got"},
    [OPTION_TIMEOUT] = {"timeout=", "timeout= needs milliseconds from 1 to 30000, got"},
    [OPTION_ONLINE_WAIT] = {"online_wait=", "online_wait= needs milliseconds from 0 (off) to 120000, got"},
    [OPTION_BLE_WAIT] = {"ble_wait=", "ble_wait= needs milliseconds from 0 (off) to 60000, got"},
    [OPTION_PROMPT] = {"prompt=", "prompt= needs 1-128 bytes of text, got"},
    [OPTION_DEBUG] = {"debug", NULL},
};

/* The option arg names, with *value pointing after its '='; OPTION_COUNT when there is none. */
static enum option_id option_named(const char *arg, const char **value) {
  for (int id = 0; id < OPTION_COUNT; id++) {
    const char *name = options[id].name;
    size_t n = strlen(name);
    int takes_value = name[n - 1] == '=';
    if (takes_value ? strncmp(arg, name, n) == 0 : strcmp(arg, name) == 0) {
      *value = arg + n;
      return (enum option_id)id;
    }
  }
  return OPTION_COUNT;
}

/* Sets one option from its value; 0 when the value breaks the option's rule. */
static int set_option(enum option_id id, const char *value, struct lk_options *o) {
  switch (id) {
  case OPTION_SOCKET:
    if (!valid_socket_path(value)) return 0;
    strcpy(o->socket_path, value);
    return 1;
  case OPTION_AGENT_UID: return parse_decimal(value, &o->agent_uid, 0, LK_AGENT_UID_MAX);
  case OPTION_PUSH:
    if (strcmp(value, "ask") == 0) o->push = LK_PUSH_ASK;
    else if (strcmp(value, "auto") == 0) o->push = LK_PUSH_AUTO;
    else return 0;
    return 1;
  case OPTION_TIMEOUT: return parse_decimal(value, &o->timeout_ms, LK_TIMEOUT_MIN_MS, LK_TIMEOUT_MAX_MS);
  case OPTION_ONLINE_WAIT:
    o->online_wait_set = 1;
    return parse_decimal(value, &o->online_wait_ms, 0, LK_ONLINE_WAIT_MAX_MS);
  case OPTION_BLE_WAIT: return parse_decimal(value, &o->ble_wait_ms, 0, LK_BLE_WAIT_MAX_MS);
  case OPTION_PROMPT:
    if (!valid_prompt(value)) return 0;
    strcpy(o->prompt, value);
    return 1;
  case OPTION_DEBUG:
    o->debug = 1;
    return 1;
  case OPTION_COUNT: break;
  }
  return 0;
}

int lk_parse_options(int argc, const char **argv, struct lk_options *o, char *error,
                     size_t error_size) {
  int seen[OPTION_COUNT] = {0};
  struct lk_options parsed;
  set_defaults(o);
  set_defaults(&parsed);
  if (error != NULL && error_size > 0) error[0] = '\0';
  if (argc < 0 || (argc > 0 && argv == NULL)) return fail(error, error_size, "bad argument list", "");
  for (int i = 0; i < argc; i++) {
    const char *arg = argv[i], *value = NULL;
    if (arg == NULL) return fail(error, error_size, "empty option", "");
    enum option_id id = option_named(arg, &value);
    if (id == OPTION_COUNT) return fail(error, error_size, "unknown option", arg);
    if (seen[id]++) return fail(error, error_size, "repeated option", arg);
    if (!set_option(id, value, &parsed)) return fail(error, error_size, options[id].needs, arg);
  }
  *o = parsed;
  return 0;
}
