/*
 * bcryptprimitives.dll's ProcessPrng for a wine prefix (test/windows/msi.integration.test.ts).
 * Rust-built addons (the win32 prebuilds of @node-rs/argon2 and @napi-rs/keyring) import it;
 * Windows 10 and 11 have it, wine 8 does not. It draws from the system RNG like the original.
 */
#include <windows.h>
#include <bcrypt.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
  while (length > 0) {
    ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
    if (BCryptGenRandom(NULL, data, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0) return FALSE;
    data += chunk;
    length -= chunk;
  }
  return TRUE;
}
