/*
 * Drives native/windows/logon-credential.c natively (clang, sanitizers) for
 * test/windows/logon-credential.test.ts: one hex input per line, one JSON line out.
 *   logon-credential-cli decode   < hex credentials   → {"ok":1,"domainHex":…,"userHex":…,"passwordHex":…} | {"ok":0}
 *   logon-credential-cli secret   < hex reply bodies  → {"found":1,"hex":…} | {"found":0}
 */
#include <stdio.h>
#include <string.h>

#include "../../../native/windows/logon-credential.h"

static size_t unhex(const char *line, unsigned char *out, size_t capacity) {
  size_t n = 0;
  for (const char *p = line; p[0] && p[1] && p[0] != '\n' && n < capacity; p += 2) {
    unsigned value = 0;
    sscanf(p, "%2x", &value);
    out[n++] = (unsigned char)value;
  }
  return n;
}

static void print_units(const char *name, const uint16_t *units, size_t count) {
  printf("\"%s\":\"", name);
  for (size_t i = 0; i < count; i++) printf("%02x%02x", units[i] & 0xff, units[i] >> 8);
  printf("\"");
}

int main(int argc, char **argv) {
  static char line[1 << 18];
  static unsigned char bytes[1 << 17];
  if (argc != 2) return 2;
  while (fgets(line, sizeof line, stdin) != NULL) {
    size_t n = unhex(line, bytes, sizeof bytes);
    if (strcmp(argv[1], "decode") == 0) {
      struct lk_logon_credential c;
      if (lk_decode_logon_credential(bytes, n, &c)) {
        printf("{\"ok\":1,");
        print_units("domainHex", c.domain, c.domain_units);
        printf(",");
        print_units("userHex", c.user, c.user_units);
        printf(",");
        print_units("passwordHex", c.password, c.password_units);
        printf("}\n");
      } else {
        for (size_t i = 0; i < sizeof c; i++)
          if (((unsigned char *)&c)[i] != 0) return 3; /* a refused credential must leave nothing behind */
        printf("{\"ok\":0}\n");
      }
    } else {
      const uint8_t *value = NULL;
      size_t length = 0;
      if (lk_reply_secret(bytes, n, &value, &length)) {
        printf("{\"found\":1,\"hex\":\"");
        for (size_t i = 0; i < length; i++) printf("%02x", value[i]);
        printf("\"}\n");
      } else {
        printf("{\"found\":0}\n");
      }
    }
  }
  return 0;
}
