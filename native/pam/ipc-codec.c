/*
 * docs/ipc.md, protocol version 1. Every length is checked before a byte is read; a reply
 * is refused whole at the first fault, and an unknown status or reason fails closed.
 */
#include "ipc-codec.h"

#include <stddef.h>
#include <string.h>

/* docs/ipc.md "Fields": tags this module reads or writes */
enum {
  TAG_OP = 0x01,
  TAG_REQUEST_ID = 0x02,
  TAG_USER = 0x03,
  TAG_PIN = 0x04,
  TAG_CONTEXT = 0x05,
  TAG_PASSWORD = 0x07,
  TAG_FLAGS = 0x08,
  TAG_WAIT = 0x09,
  TAG_STATUS = 0x10,
  TAG_REASON = 0x11,
  TAG_MESSAGE = 0x12,
  TAG_REMAINING = 0x13,
  TAG_LOW = 0x14,
  TAG_RETRY_AFTER = 0x15,
  TAG_OFFLINE_MODE = 0x16,
  TAG_USABLE = 0x17,
  TAG_LOCKED = 0x18,
  TAG_SECRET = 0x19,
  TAG_DETAIL = 0x1a,
  TAG_ONLINE = 0x1b,
  TAG_BLE = 0x1c,
  TAG_GENERATION = 0x1d,
  TAG_STALE = 0x1e
};

#define STATUS_HIGHEST LK_STATUS_ERROR

/* docs/ipc.md "Reasons (closed set)" */
static const char *const known_reasons[] = {
    "offline-mode-off", "no-pool", "pools-exhausted", "pools-expired", "hammering-delay",
    "hammering-disabled", "wrong-pin", "state-unreadable", "keystore-unavailable",
    "internal-error", "bad-frame", "frame-too-large", "unsupported-version", "unknown-op",
    "missing-field", "bad-field", "permission-denied", "unknown-user", "read-timeout",
    "out-of-order", "too-many-connections", "password-rejected",
    "password-check-unavailable", "not-enrolled", "offline", "no-device", "denied", "timeout",
    "bad-approval", "not-managed", "pairing-expired", "pairing-mac", "pairing-unknown",
    "pairing-timeout", "enrollment-failed", "declined", "bad-proof", "too-late", "too-weak",
    "no-phone", "ble-off", "link", "rate-limited", "service-refused",
};

const char *lk_parse_result_name(enum lk_parse_result result) {
  switch (result) {
  case LK_PARSE_OK: return "ok";
  case LK_PARSE_BAD_FRAME: return "bad-frame";
  case LK_PARSE_UNSUPPORTED_VERSION: return "unsupported-version";
  case LK_PARSE_FRAME_TOO_LARGE: return "frame-too-large";
  case LK_PARSE_MISSING_FIELD: return "missing-field";
  case LK_PARSE_BAD_FIELD: return "bad-field";
  }
  return "bad-frame";
}

static uint32_t read_u32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Strict UTF-8 (the WHATWG decoder with fatal: true), then no C0 control and no DEL. */
int lk_valid_text(const uint8_t *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint8_t b = s[i];
    size_t extra;
    uint8_t lo = 0x80, hi = 0xbf;
    if (b < 0x80) {
      if (b < 0x20 || b == 0x7f) return 0;
      i++;
      continue;
    }
    if (b >= 0xc2 && b <= 0xdf) extra = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      extra = 2;
      if (b == 0xe0) lo = 0xa0;      /* no overlong forms */
      else if (b == 0xed) hi = 0x9f; /* no surrogates */
    } else if (b >= 0xf0 && b <= 0xf4) {
      extra = 3;
      if (b == 0xf0) lo = 0x90;
      else if (b == 0xf4) hi = 0x8f; /* nothing above U+10FFFF */
    } else return 0;
    if (n - i - 1 < extra) return 0;
    if (s[i + 1] < lo || s[i + 1] > hi) return 0;
    for (size_t k = 2; k <= extra; k++)
      if (s[i + k] < 0x80 || s[i + k] > 0xbf) return 0;
    i += extra + 1;
  }
  return 1;
}

int lk_valid_user(const char *name) {
  if (name == NULL) return 0;
  size_t n = strnlen(name, LK_USER_MAX + 1);
  if (n == 0 || n > LK_USER_MAX) return 0;
  if (memchr(name, '/', n) != NULL) return 0;
  return lk_valid_text((const uint8_t *)name, n);
}

static int reason_characters(const uint8_t *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-')) return 0;
  return 1;
}

static int known_reason(const char *reason) {
  for (size_t i = 0; i < sizeof known_reasons / sizeof known_reasons[0]; i++)
    if (strcmp(reason, known_reasons[i]) == 0) return 1;
  return 0;
}

enum lk_parse_result lk_check_reply_header(const uint8_t header[LK_FRAME_HEADER_BYTES],
                                           uint32_t *body_length) {
  if (header[0] != LK_MAGIC_0 || header[1] != LK_MAGIC_1) return LK_PARSE_BAD_FRAME;
  if (header[2] != LK_VERSION) return LK_PARSE_UNSUPPORTED_VERSION;
  if (header[3] != LK_KIND_REPLY) return LK_PARSE_BAD_FRAME;
  uint32_t length = read_u32(header + 4);
  if (length > LK_MAX_REPLY_BODY) return LK_PARSE_FRAME_TOO_LARGE;
  *body_length = length;
  return LK_PARSE_OK;
}

/* Pass 1 (docs/ipc.md "Fields"): every field inside the body, no trailing bytes, no tag twice. */
static enum lk_parse_result split_fields(const uint8_t *body, size_t length) {
  uint8_t seen[32] = {0};
  size_t offset = 0;
  while (offset < length) {
    if (length - offset < LK_FIELD_HEADER_BYTES) return LK_PARSE_BAD_FRAME;
    uint8_t tag = body[offset];
    size_t value_length = ((size_t)body[offset + 1] << 8) | body[offset + 2];
    offset += LK_FIELD_HEADER_BYTES;
    if (value_length > length - offset) return LK_PARSE_BAD_FRAME;
    if (seen[tag >> 3] & (1u << (tag & 7))) return LK_PARSE_BAD_FIELD;
    seen[tag >> 3] |= (uint8_t)(1u << (tag & 7));
    offset += value_length;
  }
  return LK_PARSE_OK;
}

/* How a reply field's value is checked and where it is kept (docs/ipc.md "Fields"). */
enum value_kind {
  VALUE_FLAG,   /* one byte, 0 or 1, kept in an int */
  VALUE_U32,    /* four bytes, big-endian, kept in a uint32_t */
  VALUE_COUNT,  /* as VALUE_U32, and 1 or more */
  VALUE_REASON, /* 1 to max bytes of a-z, 0-9 and '-', kept NUL-terminated */
  VALUE_TEXT,   /* up to max bytes of text (lk_valid_text), kept NUL-terminated */
  VALUE_BYTES,  /* 1 to max bytes; checked, never kept */
  VALUE_NOTE    /* up to max bytes of text; checked, never kept */
};

/* An optional reply field: its LK_HAS_ bit, its kind, and the lk_reply member it fills. */
struct reply_field {
  uint8_t tag;
  unsigned has;
  enum value_kind kind;
  size_t max;     /* the longest value, for the variable-length kinds */
  size_t kept_at; /* offsetof the member, for the kinds that keep their value */
};

#define KEPT_IN(member) offsetof(struct lk_reply, member)
/* A kept text of max bytes needs max + 1 bytes of member. */
_Static_assert(sizeof((struct lk_reply *)0)->reason == LK_REASON_MAX + 1, "reason holds LK_REASON_MAX bytes");
_Static_assert(sizeof((struct lk_reply *)0)->message == LK_MESSAGE_MAX + 1, "message holds LK_MESSAGE_MAX bytes");

static const struct reply_field reply_fields[] = {
    {TAG_REASON, LK_HAS_REASON, VALUE_REASON, LK_REASON_MAX, KEPT_IN(reason)},
    {TAG_MESSAGE, LK_HAS_MESSAGE, VALUE_TEXT, LK_MESSAGE_MAX, KEPT_IN(message)},
    {TAG_REMAINING, LK_HAS_REMAINING, VALUE_U32, .kept_at = KEPT_IN(remaining)},
    {TAG_LOW, LK_HAS_LOW, VALUE_FLAG, .kept_at = KEPT_IN(low)},
    {TAG_RETRY_AFTER, LK_HAS_RETRY_AFTER, VALUE_U32, .kept_at = KEPT_IN(retry_after)},
    {TAG_OFFLINE_MODE, LK_HAS_OFFLINE_MODE, VALUE_FLAG, .kept_at = KEPT_IN(offline_mode)},
    {TAG_USABLE, LK_HAS_USABLE, VALUE_FLAG, .kept_at = KEPT_IN(usable)},
    {TAG_LOCKED, LK_HAS_LOCKED, VALUE_FLAG, .kept_at = KEPT_IN(locked)},
    {TAG_SECRET, LK_HAS_SECRET, VALUE_BYTES, .max = LK_SECRET_MAX}, /* enroll only */
    {TAG_DETAIL, LK_HAS_DETAIL, VALUE_NOTE, .max = LK_DETAIL_MAX},  /* for the CLI */
    {TAG_ONLINE, LK_HAS_ONLINE, VALUE_FLAG, .kept_at = KEPT_IN(online)},
    {TAG_BLE, LK_HAS_BLE, VALUE_FLAG, .kept_at = KEPT_IN(ble)},
    {TAG_GENERATION, LK_HAS_GENERATION, VALUE_COUNT, .kept_at = KEPT_IN(generation)}, /* the capture a credential came from */
    {TAG_STALE, LK_HAS_STALE, VALUE_FLAG, .kept_at = KEPT_IN(stale)},
};

static int read_u32_field(const uint8_t *v, size_t n, uint32_t *out) {
  if (n != 4) return 0;
  *out = read_u32(v);
  return 1;
}

static int keep_text(char *out, const uint8_t *v, size_t n) {
  memcpy(out, v, n);
  out[n] = '\0';
  return 1;
}

/* One optional field's value into its member; 0 when it breaks its kind or limits (bad-field). */
static int decode_value(const struct reply_field *f, const uint8_t *v, size_t n, struct lk_reply *r) {
  void *member = (char *)r + f->kept_at;
  uint32_t *number = member;
  switch (f->kind) {
  case VALUE_FLAG:
    if (n != 1 || v[0] > 1) return 0;
    *(int *)member = v[0];
    return 1;
  case VALUE_U32: return read_u32_field(v, n, number);
  case VALUE_COUNT: return read_u32_field(v, n, number) && *number >= 1;
  case VALUE_REASON: return n >= 1 && n <= f->max && reason_characters(v, n) && keep_text(member, v, n);
  case VALUE_TEXT: return n <= f->max && lk_valid_text(v, n) && keep_text(member, v, n);
  case VALUE_BYTES: return n >= 1 && n <= f->max;
  case VALUE_NOTE: return n <= f->max && lk_valid_text(v, n);
  }
  return 0;
}

/* Pass 2: one field; returns 0 when it breaks its type or limits (bad-field). */
static int decode_field(uint8_t tag, const uint8_t *v, size_t n, struct lk_reply *r,
                        int *status_seen, int *id_seen, int *raw_status) {
  if (tag == TAG_REQUEST_ID) {
    *id_seen = 1;
    return read_u32_field(v, n, &r->request_id);
  }
  if (tag == TAG_STATUS) {
    if (n != 1) return 0;
    *status_seen = 1;
    *raw_status = v[0];
    return 1;
  }
  for (size_t i = 0; i < sizeof reply_fields / sizeof reply_fields[0]; i++) {
    if (reply_fields[i].tag != tag) continue;
    r->present |= reply_fields[i].has;
    return decode_value(&reply_fields[i], v, n, r);
  }
  return 0; /* an unknown tag, or a request field in a reply */
}

enum lk_parse_result lk_parse_reply_body(const uint8_t *body, size_t length,
                                         struct lk_reply *reply) {
  memset(reply, 0, sizeof *reply);
  enum lk_parse_result result = split_fields(body, length);
  int status_seen = 0, id_seen = 0, raw_status = 0;
  for (size_t offset = 0; result == LK_PARSE_OK && offset < length;) {
    uint8_t tag = body[offset];
    size_t n = ((size_t)body[offset + 1] << 8) | body[offset + 2];
    const uint8_t *value = body + offset + LK_FIELD_HEADER_BYTES;
    if (!decode_field(tag, value, n, reply, &status_seen, &id_seen, &raw_status))
      result = LK_PARSE_BAD_FIELD;
    offset += LK_FIELD_HEADER_BYTES + n;
  }
  if (result == LK_PARSE_OK && (!status_seen || !id_seen)) result = LK_PARSE_MISSING_FIELD;
  if (result != LK_PARSE_OK) {
    memset(reply, 0, sizeof *reply);
    return result;
  }
  /* Fail closed (docs/ipc.md): an unknown status is an error, an unknown reason internal. */
  if (raw_status > STATUS_HIGHEST) {
    reply->status = LK_STATUS_ERROR;
    strcpy(reply->reason, "internal-error");
    reply->present |= LK_HAS_REASON;
  } else {
    reply->status = (enum lk_status)raw_status;
  }
  if ((reply->present & LK_HAS_REASON) && !known_reason(reply->reason))
    strcpy(reply->reason, "internal-error");
  return LK_PARSE_OK;
}

enum lk_parse_result lk_parse_reply(const uint8_t *frame, size_t length, struct lk_reply *reply) {
  uint32_t body_length = 0;
  memset(reply, 0, sizeof *reply);
  if (length < LK_FRAME_HEADER_BYTES) return LK_PARSE_BAD_FRAME;
  enum lk_parse_result result = lk_check_reply_header(frame, &body_length);
  if (result != LK_PARSE_OK) return result;
  if (length - LK_FRAME_HEADER_BYTES != body_length) return LK_PARSE_BAD_FRAME;
  return lk_parse_reply_body(frame + LK_FRAME_HEADER_BYTES, body_length, reply);
}

/* ---- requests ---- */

struct writer {
  uint8_t *out;
  size_t capacity, length;
  int failed;
};

static void put_field(struct writer *w, uint8_t tag, const uint8_t *value, size_t n) {
  if (w->failed || n > 0xffff || w->capacity - w->length < LK_FIELD_HEADER_BYTES + n) {
    w->failed = 1;
    return;
  }
  w->out[w->length] = tag;
  w->out[w->length + 1] = (uint8_t)(n >> 8);
  w->out[w->length + 2] = (uint8_t)(n & 0xff);
  if (n > 0) memcpy(w->out + w->length + LK_FIELD_HEADER_BYTES, value, n);
  w->length += LK_FIELD_HEADER_BYTES + n;
}

static void put_u32(struct writer *w, uint8_t tag, uint32_t value) {
  uint8_t bytes[4] = {(uint8_t)(value >> 24), (uint8_t)(value >> 16), (uint8_t)(value >> 8), (uint8_t)value};
  put_field(w, tag, bytes, sizeof bytes);
}

/* A value of 1 to max bytes (a PIN, a password); anything else fails the request. */
static void put_bytes(struct writer *w, uint8_t tag, const uint8_t *value, size_t n, size_t max) {
  if (value == NULL || n < 1 || n > max) w->failed = 1;
  else put_field(w, tag, value, n);
}

static int begin_request(struct writer *w, uint8_t *out, size_t capacity, uint8_t op,
                         uint32_t request_id, const char *user) {
  w->out = out;
  w->capacity = capacity;
  w->length = LK_FRAME_HEADER_BYTES;
  w->failed = capacity < LK_FRAME_HEADER_BYTES || !lk_valid_user(user);
  if (w->failed) return 0;
  put_field(w, TAG_OP, &op, 1);
  put_u32(w, TAG_REQUEST_ID, request_id);
  put_field(w, TAG_USER, (const uint8_t *)user, strlen(user));
  return !w->failed;
}

static size_t finish_request(struct writer *w) {
  size_t body = w->length - LK_FRAME_HEADER_BYTES;
  if (w->failed || body > LK_MAX_REQUEST_BODY) {
    if (w->out != NULL && w->capacity > 0) memset(w->out, 0, w->capacity < w->length ? w->capacity : w->length);
    return 0;
  }
  w->out[0] = LK_MAGIC_0;
  w->out[1] = LK_MAGIC_1;
  w->out[2] = LK_VERSION;
  w->out[3] = LK_KIND_REQUEST;
  w->out[4] = (uint8_t)(body >> 24);
  w->out[5] = (uint8_t)(body >> 16);
  w->out[6] = (uint8_t)(body >> 8);
  w->out[7] = (uint8_t)body;
  return w->length;
}

size_t lk_encode_status(uint8_t *out, size_t capacity, uint32_t request_id, const char *user) {
  struct writer w;
  if (begin_request(&w, out, capacity, LK_OP_STATUS, request_id, user)) put_u32(&w, TAG_FLAGS, LK_STATUS_FLAG_LOCK_SCREEN);
  return finish_request(&w);
}

static void put_context(struct writer *w, const char *context) {
  if (context == NULL) return;
  size_t n = strnlen(context, LK_CONTEXT_MAX + 1);
  if (n > LK_CONTEXT_MAX || !lk_valid_text((const uint8_t *)context, n)) w->failed = 1;
  else put_field(w, TAG_CONTEXT, (const uint8_t *)context, n);
}

/* online-auth and ble-auth: user, context, wait (docs/ipc.md ops 7 and 11) */
static size_t encode_phone_request(uint8_t *out, size_t capacity, uint8_t op, uint32_t request_id,
                                   const char *user, const char *context, uint32_t wait_ms) {
  struct writer w;
  if (begin_request(&w, out, capacity, op, request_id, user)) {
    put_context(&w, context);
    if (wait_ms > LK_WAIT_MAX_MS) w.failed = 1;
    put_u32(&w, TAG_WAIT, wait_ms);
  }
  return finish_request(&w);
}

size_t lk_encode_online_auth(uint8_t *out, size_t capacity, uint32_t request_id, const char *user,
                             const char *context, uint32_t wait_ms) {
  return encode_phone_request(out, capacity, LK_OP_ONLINE_AUTH, request_id, user, context, wait_ms);
}

size_t lk_encode_ble_auth(uint8_t *out, size_t capacity, uint32_t request_id, const char *user,
                          const char *context, uint32_t wait_ms) {
  return encode_phone_request(out, capacity, LK_OP_BLE_AUTH, request_id, user, context, wait_ms);
}

size_t lk_encode_verify(uint8_t *out, size_t capacity, uint32_t request_id, const char *user,
                        const uint8_t *pin, size_t pin_length, const char *context) {
  struct writer w;
  if (begin_request(&w, out, capacity, LK_OP_VERIFY, request_id, user)) {
    put_bytes(&w, TAG_PIN, pin, pin_length, LK_PIN_MAX);
    put_context(&w, context);
  }
  return finish_request(&w);
}

size_t lk_encode_credential_capture(uint8_t *out, size_t capacity, uint32_t request_id,
                                   const char *user, const uint8_t *password,
                                   size_t password_length) {
  struct writer w;
  if (begin_request(&w, out, capacity, LK_OP_CREDENTIAL_CAPTURE, request_id, user))
    put_bytes(&w, TAG_PASSWORD, password, password_length, LK_PASSWORD_MAX);
  return finish_request(&w);
}

size_t lk_encode_credential_refused(uint8_t *out, size_t capacity, uint32_t request_id, const char *user,
                                   uint32_t generation) {
  struct writer w;
  if (begin_request(&w, out, capacity, LK_OP_CREDENTIAL_REFUSED, request_id, user)) {
    if (generation < 1) w.failed = 1;
    put_u32(&w, TAG_GENERATION, generation);
  }
  return finish_request(&w);
}
