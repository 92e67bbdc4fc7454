/**
 * The contract between checkPassword (the agent) and its PAM child process:
 *   argv:   <child script> <service> <user> <nonce>
 *   stdin:  the password bytes, then EOF (at most MAX_PASSWORD_BYTES)
 *   exit:   CHILD_EXIT; stderr carries one short, non-secret reason line.
 *   stdout: on success only, successLine(nonce): exit 0 alone is not enough, since an empty or
 *           truncated script (or the wrong file) also exits 0.
 * Both sides validate names with the same rules.
 */

/** PAM_MAX_RESP_SIZE in Linux-PAM; docs/ipc.md allows a `password` field of 1–512 bytes. */
export const MAX_PASSWORD_BYTES = 512;
export const MAX_REASON_BYTES = 200;

export const CHILD_EXIT = { ok: 0, rejected: 10, unavailable: 20 } as const;

const NONCE = /^[0-9a-f]{32}$/;

export function isValidNonce(nonce: string): boolean {
  return NONCE.test(nonce);
}

export function successLine(nonce: string): string {
  return `ok ${nonce}\n`;
}

// A service is a file name in /etc/pam.d: no slash, no leading dot.
const SERVICE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;
// Portable user names plus what NSS backends commonly add (`@`, `.`); never a leading `-`.
const USER_NAME = /^[A-Za-z0-9_][A-Za-z0-9._@-]{0,255}$/;

export function isValidPamServiceName(service: string): boolean {
  return SERVICE_NAME.test(service);
}

export function isValidPamUserName(user: string): boolean {
  return USER_NAME.test(user) && Buffer.byteLength(user) <= 256;
}
