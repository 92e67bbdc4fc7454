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

int lk_parse_options(int argc, const char **argv, struct lk_options *o, char *error,
                     size_t error_size) {
  int seen_socket = 0, seen_agent_uid = 0, seen_push = 0, seen_timeout = 0, seen_online_wait = 0, seen_ble_wait = 0, seen_prompt = 0, seen_debug = 0;
  struct lk_options parsed;
  set_defaults(o);
  set_defaults(&parsed);
  if (error != NULL && error_size > 0) error[0] = '\0';
  if (argc < 0 || (argc > 0 && argv == NULL)) return fail(error, error_size, "bad argument list", "");
  for (int i = 0; i < argc; i++) {
    const char *arg = argv[i];
    if (arg == NULL) return fail(error, error_size, "empty option", "");
    if (strncmp(arg, "socket=", 7) == 0) {
      if (seen_socket++) return fail(error, error_size, "repeated option", arg);
      if (!valid_socket_path(arg + 7))
        return fail(error, error_size, "socket= needs an absolute path of at most 100 bytes, got", arg);
      strcpy(parsed.socket_path, arg + 7);
    } else if (strncmp(arg, "agent_uid=", 10) == 0) {
      if (seen_agent_uid++) return fail(error, error_size, "repeated option", arg);
      if (!parse_decimal(arg + 10, &parsed.agent_uid, 0, LK_AGENT_UID_MAX))
        return fail(error, error_size, "agent_uid= needs a numeric uid, got", arg);
    } else if (strncmp(arg, "push=", 5) == 0) {
      if (seen_push++) return fail(error, error_size, "repeated option", arg);
      if (strcmp(arg + 5, "ask") == 0) parsed.push = LK_PUSH_ASK;
      else if (strcmp(arg + 5, "auto") == 0) parsed.push = LK_PUSH_AUTO;
      else return fail(error, error_size, "push= needs ask or auto, got", arg);
    } else if (strncmp(arg, "timeout=", 8) == 0) {
      if (seen_timeout++) return fail(error, error_size, "repeated option", arg);
      if (!parse_decimal(arg + 8, &parsed.timeout_ms, LK_TIMEOUT_MIN_MS, LK_TIMEOUT_MAX_MS))
        return fail(error, error_size, "timeout= needs milliseconds from 1 to 30000, got", arg);
    } else if (strncmp(arg, "online_wait=", 12) == 0) {
      if (seen_online_wait++) return fail(error, error_size, "repeated option", arg);
      if (!parse_decimal(arg + 12, &parsed.online_wait_ms, 0, LK_ONLINE_WAIT_MAX_MS))
        return fail(error, error_size, "online_wait= needs milliseconds from 0 (off) to 120000, got", arg);
      parsed.online_wait_set = 1;
    } else if (strncmp(arg, "ble_wait=", 9) == 0) {
      if (seen_ble_wait++) return fail(error, error_size, "repeated option", arg);
      if (!parse_decimal(arg + 9, &parsed.ble_wait_ms, 0, LK_BLE_WAIT_MAX_MS))
        return fail(error, error_size, "ble_wait= needs milliseconds from 0 (off) to 60000, got", arg);
    } else if (strncmp(arg, "prompt=", 7) == 0) {
      if (seen_prompt++) return fail(error, error_size, "repeated option", arg);
      if (!valid_prompt(arg + 7))
        return fail(error, error_size, "prompt= needs 1-128 bytes of text, got", arg);
      strcpy(parsed.prompt, arg + 7);
    } else if (strcmp(arg, "debug") == 0) {
      if (seen_debug++) return fail(error, error_size, "repeated option", arg);
      parsed.debug = 1;
    } else {
      return fail(error, error_size, "unknown option", arg);
    }
  }
  *o = parsed;
  return 0;
}
