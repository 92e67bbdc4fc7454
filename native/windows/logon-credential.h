/*
 * The logon credential the agent hands back on success (docs/windows.md §5), found in a reply
 * body the shared codec (native/pam/ipc-codec.c) has already accepted. Pure and portable C: the
 * tests build it natively too (test/windows/logon-credential.test.ts).
 */
#ifndef LATCHKEY_LOGON_CREDENTIAL_H
#define LATCHKEY_LOGON_CREDENTIAL_H

#include <stddef.h>
#include <stdint.h>

#define LK_DOMAIN_UNITS_MAX 255
#define LK_USER_UNITS_MAX 256
#define LK_PASSWORD_UNITS_MAX 256

/* UTF-16 code units, each string also NUL-terminated for the Windows calls. */
struct lk_logon_credential {
  uint16_t domain[LK_DOMAIN_UNITS_MAX + 1];
  uint16_t user[LK_USER_UNITS_MAX + 1];
  uint16_t password[LK_PASSWORD_UNITS_MAX + 1];
  size_t domain_units, user_units, password_units;
};

/*
 * The value of the reply's `secret` field (docs/ipc.md tag 0x19). Only for a body that
 * lk_parse_reply_body accepted: every field is then known to lie inside the body.
 * Returns 1 and points into the body, or 0 when there is none.
 */
int lk_reply_secret(const uint8_t *body, size_t length, const uint8_t **value, size_t *value_length);

/* 1 when the bytes are a logon credential by every rule of §5; on 0, *out is wiped. */
int lk_decode_logon_credential(const uint8_t *bytes, size_t length, struct lk_logon_credential *out);

/* Zero-fills memory the compiler may not drop (SecureZeroMemory's contract, portably). */
void lk_wipe(void *memory, size_t length);

#endif
