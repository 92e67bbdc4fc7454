/* docs/windows.md §5. Every length is checked before a byte is read; the first fault refuses it whole. */
#include "logon-credential.h"

#include <string.h>

#define TAG_SECRET 0x19
#define FIELD_HEADER_BYTES 3
#define LOGON_CREDENTIAL_VERSION 1

void lk_wipe(void *memory, size_t length) {
  volatile uint8_t *p = (volatile uint8_t *)memory;
  while (length-- > 0) *p++ = 0;
}

int lk_reply_secret(const uint8_t *body, size_t length, const uint8_t **value, size_t *value_length) {
  for (size_t offset = 0; length - offset >= FIELD_HEADER_BYTES;) {
    size_t n = ((size_t)body[offset + 1] << 8) | body[offset + 2];
    if (n > length - offset - FIELD_HEADER_BYTES) return 0;
    if (body[offset] == TAG_SECRET) {
      *value = body + offset + FIELD_HEADER_BYTES;
      *value_length = n;
      return 1;
    }
    offset += FIELD_HEADER_BYTES + n;
  }
  return 0;
}

/* One length-prefixed UTF-16LE value into units[0..max], NUL-terminated; 0 when it breaks §5. */
static int read_units(const uint8_t *bytes, size_t length, size_t *offset, uint16_t *units, size_t max, size_t *count) {
  if (length - *offset < 2) return 0;
  size_t n = ((size_t)bytes[*offset] << 8) | bytes[*offset + 1];
  *offset += 2;
  if (n > length - *offset || n < 2 || n % 2 != 0 || n / 2 > max) return 0;
  for (size_t i = 0; i < n / 2; i++) {
    units[i] = (uint16_t)(bytes[*offset + 2 * i] | (bytes[*offset + 2 * i + 1] << 8));
    if (units[i] == 0) return 0;
  }
  units[n / 2] = 0;
  *count = n / 2;
  *offset += n;
  return 1;
}

int lk_decode_logon_credential(const uint8_t *bytes, size_t length, struct lk_logon_credential *out) {
  size_t offset = 1;
  int ok = length >= 1 && bytes[0] == LOGON_CREDENTIAL_VERSION &&
           read_units(bytes, length, &offset, out->domain, LK_DOMAIN_UNITS_MAX, &out->domain_units) &&
           read_units(bytes, length, &offset, out->user, LK_USER_UNITS_MAX, &out->user_units) &&
           read_units(bytes, length, &offset, out->password, LK_PASSWORD_UNITS_MAX, &out->password_units) &&
           offset == length;
  if (!ok) lk_wipe(out, sizeof *out);
  return ok;
}
