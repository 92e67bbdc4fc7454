/**
 * The password-check seam: a local account's own password, checked by the OS before that user may
 * enroll or pair themselves (docs/ipc.md ops enroll and pair, `password`). Never throws for a
 * wrong password or an OS fault: the result says which. Linux: PAM in a child process
 * (platform/linux/password-check.ts).
 */
import { currentPlatform } from './platform.js';

export type PasswordCheckResult =
  | { ok: true }
  | { ok: false; code: 'password-rejected' | 'password-check-unavailable'; message: string };

export interface PasswordCheckOptions {
  /** The OS service that decides (a file name in /etc/pam.d on Linux, e.g. "latchkey-enroll"). */
  service: string;
  user: string;
  /** Copied by the check; the caller still owns (and should wipe) this buffer. */
  password: Uint8Array;
  timeoutMs?: number;
}

export type PasswordCheck = (options: PasswordCheckOptions) => Promise<PasswordCheckResult>;

export const checkPassword: PasswordCheck = (options) => currentPlatform().passwords.check(options);
