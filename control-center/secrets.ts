/**
 * Install and admin tokens (docs/online-protocol.md "Request authentication", "Workstation
 * enrollment"): 32 random bytes behind a prefix, shown once; the database keeps only the
 * base64url SHA-256 (the same digest the enrollment proof covers).
 */
import { toBase64url } from '../protocol/online/base64url.js';
import { randomBytes, sha256 } from '../protocol/crypto/hashes.js';

export const INSTALL_TOKEN_PREFIX = 'lk_install_';
export const ADMIN_TOKEN_PREFIX = 'lk_admin_';
export const ADMIN_TOKEN_PATTERN = /^lk_admin_[A-Za-z0-9_-]{43}$/;

function newToken(prefix: string): string {
  const bytes = randomBytes(32);
  const token = prefix + toBase64url(bytes);
  bytes.fill(0);
  return token;
}

export const newInstallToken = (): string => newToken(INSTALL_TOKEN_PREFIX);
export const newAdminToken = (): string => newToken(ADMIN_TOKEN_PREFIX);

export async function tokenDigest(token: string): Promise<string> {
  return toBase64url(await sha256(new TextEncoder().encode(token)));
}
