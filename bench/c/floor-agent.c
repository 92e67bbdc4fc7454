/*
 * The floor under pam_latchkey (bench/pam-vs-oath.mjs): a stand-in agent in C that speaks the same
 * IPC (docs/ipc.md) and does only what no agent can skip — one durable append per verify — and
 * nothing else: no KDF, no sealing, no decision. Every status says "usable", every verify
 * "accepted". A benchmark reference, never a product part: it checks nothing.
 *
 *   floor-agent SOCKET JOURNAL RECORD_BYTES
 *
 * Serves one connection at a time until killed. RECORD_BYTES (0 = no write, no sync) is appended
 * to JOURNAL and fdatasynced before each verify reply, as the agent does with its sealed record.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define HEADER 8
#define MAX_BODY 4096

static int read_all(int fd, uint8_t *buf, size_t n) {
  for (size_t got = 0; got < n;) {
    ssize_t r = read(fd, buf + got, n - got);
    if (r <= 0) return -1;
    got += (size_t)r;
  }
  return 0;
}

static void field(uint8_t *out, size_t *n, uint8_t tag, const void *value, uint16_t length) {
  out[(*n)++] = tag;
  out[(*n)++] = (uint8_t)(length >> 8);
  out[(*n)++] = (uint8_t)length;
  memcpy(out + *n, value, length);
  *n += length;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: floor-agent SOCKET JOURNAL RECORD_BYTES\n");
    return 2;
  }
  size_t record_bytes = strtoul(argv[3], NULL, 10);
  uint8_t *record = calloc(1, record_bytes + 1);
  int journal = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  int server = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (record == NULL || journal < 0 || server < 0 || strlen(argv[1]) >= sizeof addr.sun_path) return 1;
  strcpy(addr.sun_path, argv[1]);
  unlink(argv[1]);
  if (bind(server, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(server, 16) != 0) return 1;
  off_t end = 0;
  for (;;) {
    int fd = accept(server, NULL, NULL);
    if (fd < 0) continue;
    uint8_t in[HEADER + MAX_BODY];
    while (read_all(fd, in, HEADER) == 0) {
      uint32_t length = (uint32_t)in[4] << 24 | (uint32_t)in[5] << 16 | (uint32_t)in[6] << 8 | in[7];
      if (length > MAX_BODY || read_all(fd, in + HEADER, length) != 0) break;
      uint8_t op = 0, id[4] = {0};
      for (size_t i = HEADER; i + 3 <= HEADER + length;) {
        size_t n = (size_t)in[i + 1] << 8 | in[i + 2];
        if (i + 3 + n > HEADER + length) break;
        if (in[i] == 0x01 && n == 1) op = in[i + 3];
        if (in[i] == 0x02 && n == 4) memcpy(id, in + i + 3, 4);
        i += 3 + n;
      }
      uint8_t out[512], yes = 1, no = 0, remaining[4] = {0, 0, 0, 50};
      size_t n = HEADER;
      field(out, &n, 0x02, id, 4);
      if (op == 1) { /* status: offline mode on, usable, not locked */
        uint8_t ok = 0;
        field(out, &n, 0x10, &ok, 1);
        field(out, &n, 0x16, &yes, 1);
        field(out, &n, 0x17, &yes, 1);
        field(out, &n, 0x18, &no, 1);
      } else { /* verify: the durable append, then "accepted" */
        if (record_bytes > 0) {
          if (pwrite(journal, record, record_bytes, end) != (ssize_t)record_bytes || fdatasync(journal) != 0) return 1;
          end += (off_t)record_bytes;
        }
        static const char message[] = "Unlocked \xe2\x80\x94 50 offline PINs left.";
        uint8_t accepted = 1;
        field(out, &n, 0x10, &accepted, 1);
        field(out, &n, 0x12, message, sizeof message - 1);
      }
      field(out, &n, 0x13, remaining, 4);
      field(out, &n, 0x14, &no, 1);
      uint32_t body = (uint32_t)(n - HEADER);
      uint8_t head[HEADER] = {'L', 'K', 1, 2, (uint8_t)(body >> 24), (uint8_t)(body >> 16), (uint8_t)(body >> 8), (uint8_t)body};
      memcpy(out, head, HEADER);
      if (write(fd, out, n) != (ssize_t)n) break;
    }
    close(fd);
  }
}
