/*
 * mdwe-exec PROGRAM ARGS…: runs PROGRAM with memory that is writable and executable refused
 * (prctl PR_SET_MDWE, Linux 6.3+), as systemd's MemoryDenyWriteExecute=yes refuses it, so the
 * package test starts the services under the restriction their units ask for.
 */
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

#ifndef PR_SET_MDWE
#define PR_SET_MDWE 65
#endif
#ifndef PR_MDWE_REFUSE_EXEC_GAIN
#define PR_MDWE_REFUSE_EXEC_GAIN 1
#endif

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: mdwe-exec PROGRAM [ARGS...]\n");
    return 64;
  }
  if (prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0L, 0L, 0L) != 0) {
    perror("mdwe-exec: prctl(PR_SET_MDWE)");
    return 71;
  }
  execv(argv[1], argv + 1);
  perror("mdwe-exec: exec");
  return 127;
}
