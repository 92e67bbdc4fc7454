/*
 * The lock screen's side of the agent IPC (docs/ipc.md, protocol version 1): encodes the requests
 * the PAM module sends (status, verify, online-auth, ble-auth) and the one the Windows credential
 * provider adds (credential-capture), and parses replies. Pure: no I/O, no allocation.
 */
#ifndef LATCHKEY_IPC_CODEC_H
#define LATCHKEY_IPC_CODEC_H

#include <stddef.h>
#include <stdint.h>

/* docs/ipc.md "Frame" */
#define LK_MAGIC_0 0x4c /* 'L' */
#define LK_MAGIC_1 0x4b /* 'K' */
#define LK_VERSION 1
#define LK_KIND_REQUEST 1
#define LK_KIND_REPLY 2
#define LK_FRAME_HEADER_BYTES 8
#define LK_FIELD_HEADER_BYTES 3
#define LK_MAX_REQUEST_BODY 4096
#define LK_MAX_REPLY_BODY 65536

/* docs/ipc.md "Fields": the limits this module checks */
#define LK_USER_MAX 256
#define LK_PIN_MAX 64
#define LK_PASSWORD_MAX 512
#define LK_CONTEXT_MAX 128
#define LK_REASON_MAX 48
#define LK_MESSAGE_MAX 512
#define LK_SECRET_MAX 2048
#define LK_DETAIL_MAX 60000
#define LK_WAIT_MAX_MS 600000

/* A request frame this module builds is never larger than this (a bound on every request's fields). */
#define LK_REQUEST_FRAME_MAX                                                                  \
  (LK_FRAME_HEADER_BYTES + 7 * LK_FIELD_HEADER_BYTES + 1 + 4 + LK_USER_MAX + LK_PIN_MAX +     \
   LK_CONTEXT_MAX + 4 + LK_PASSWORD_MAX)

enum lk_op {
  LK_OP_STATUS = 1,
  LK_OP_VERIFY = 2,
  LK_OP_ONLINE_AUTH = 7,
  LK_OP_BLE_AUTH = 11,
  LK_OP_CREDENTIAL_CAPTURE = 15,
  LK_OP_CREDENTIAL_REFUSED = 16
};

/* docs/ipc.md field `flags`, bit 1 of a status request */
#define LK_STATUS_FLAG_LOCK_SCREEN 2

/* docs/ipc.md "status codes"; any other value on the wire becomes LK_STATUS_ERROR. */
enum lk_status {
  LK_STATUS_OK = 0,
  LK_STATUS_ACCEPTED = 1,
  LK_STATUS_REJECTED = 2,
  LK_STATUS_LOCKED = 3,
  LK_STATUS_UNAVAILABLE = 4,
  LK_STATUS_ERROR = 5
};

/* Why a reply was refused; names match the reasons of docs/ipc.md. */
enum lk_parse_result {
  LK_PARSE_OK = 0,
  LK_PARSE_BAD_FRAME,
  LK_PARSE_UNSUPPORTED_VERSION,
  LK_PARSE_FRAME_TOO_LARGE,
  LK_PARSE_MISSING_FIELD,
  LK_PARSE_BAD_FIELD
};

/* Bits of lk_reply.present, one per optional reply field. */
#define LK_HAS_REASON (1u << 0)
#define LK_HAS_MESSAGE (1u << 1)
#define LK_HAS_REMAINING (1u << 2)
#define LK_HAS_LOW (1u << 3)
#define LK_HAS_RETRY_AFTER (1u << 4)
#define LK_HAS_OFFLINE_MODE (1u << 5)
#define LK_HAS_USABLE (1u << 6)
#define LK_HAS_LOCKED (1u << 7)
#define LK_HAS_SECRET (1u << 8)
#define LK_HAS_DETAIL (1u << 9)
#define LK_HAS_ONLINE (1u << 10)
#define LK_HAS_BLE (1u << 11)
#define LK_HAS_GENERATION (1u << 12)
#define LK_HAS_STALE (1u << 13)

struct lk_reply {
  uint32_t request_id;
  enum lk_status status;
  unsigned present;                  /* LK_HAS_* */
  char reason[LK_REASON_MAX + 1];    /* a reason of the closed set, or "internal-error" */
  char message[LK_MESSAGE_MAX + 1];  /* the sentence for a person; UTF-8, no control chars */
  uint32_t remaining;
  uint32_t retry_after;
  uint32_t generation; /* the capture a handed-back credential came from (docs/windows.md §6.6); 0 if absent */
  int low, offline_mode, usable, locked, online, ble, stale; /* flags: 0 or 1 */
};

const char *lk_parse_result_name(enum lk_parse_result result);

/* Checks the 8-byte reply header before any body byte is read (docs/ipc.md "Errors"). */
enum lk_parse_result lk_check_reply_header(const uint8_t header[LK_FRAME_HEADER_BYTES],
                                           uint32_t *body_length);

/* Parses a reply body; on failure *reply is zeroed. */
enum lk_parse_result lk_parse_reply_body(const uint8_t *body, size_t length,
                                         struct lk_reply *reply);

/* Parses one complete reply frame: header, then exactly body_length body bytes. */
enum lk_parse_result lk_parse_reply(const uint8_t *frame, size_t length, struct lk_reply *reply);

/* 1 if the bytes are UTF-8 a strict decoder accepts, without C0 controls or DEL. */
int lk_valid_text(const uint8_t *bytes, size_t length);

/* 1 if name can travel as the `user` field: 1-256 bytes of valid text without '/'. */
int lk_valid_user(const char *name);

/*
 * Build request frames into out (capacity LK_REQUEST_FRAME_MAX is always enough). Return
 * the frame length, or 0 when an argument cannot travel (bad user, PIN length, context).
 * context may be NULL (no context field).
 */
/* status with the lock-screen flag: no `detail` in the reply, and the connection is then
 * bound to this user's lock-screen requests (docs/ipc.md "Lock-screen connections"). */
size_t lk_encode_status(uint8_t *out, size_t capacity, uint32_t request_id, const char *user);
size_t lk_encode_verify(uint8_t *out, size_t capacity, uint32_t request_id, const char *user,
                        const uint8_t *pin, size_t pin_length, const char *context);
/* docs/ipc.md op 7: online sign-in, the agent waiting at most wait_ms for the phone. */
size_t lk_encode_online_auth(uint8_t *out, size_t capacity, uint32_t request_id, const char *user,
                             const char *context, uint32_t wait_ms);
/* docs/ipc.md op 11: Bluetooth unlock, the agent trying the paired phone for at most wait_ms. */
size_t lk_encode_ble_auth(uint8_t *out, size_t capacity, uint32_t request_id, const char *user,
                          const char *context, uint32_t wait_ms);
/* docs/ipc.md op 15: the Windows password LSA just accepted at the tile (UTF-8, 1-512 bytes), for
 * the agent to keep wrapped (docs/windows.md §6.1). The caller wipes out after writing it. */
size_t lk_encode_credential_capture(uint8_t *out, size_t capacity, uint32_t request_id,
                                   const char *user, const uint8_t *password,
                                   size_t password_length);
/* docs/ipc.md op 16: Windows refused the credential of capture `generation` (1 or more) that the
 * agent handed back (docs/windows.md §6.6). */
size_t lk_encode_credential_refused(uint8_t *out, size_t capacity, uint32_t request_id, const char *user,
                                   uint32_t generation);

#endif
