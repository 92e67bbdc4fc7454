/*
 * Keeps a wine prefix's services alive (test/windows/helpers/wine.ts). When the last ordinary
 * process of a prefix ends, wine ends its services too — a service that is restarting its child
 * would die in its back-off. Windows does no such thing; the tests run this for the prefix's life.
 */
#include <windows.h>

int main(void) {
  Sleep(INFINITE);
  return 0;
}
