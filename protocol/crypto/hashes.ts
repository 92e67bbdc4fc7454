/**
 * The symmetric half of the one crypto module (docs/architecture.md "One crypto module"):
 * SHA-256, HMAC and HKDF from @noble/hashes (pure, audited JavaScript: synchronous, the same
 * bytes in Node and in a browser), a constant-time comparison, and randomness from the platform's
 * CSPRNG (`crypto.getRandomValues`, in Node 20 and browsers alike). The asymmetric primitives and
 * AEADs live beside it: webcrypto.ts (async, CryptoKeys, browsers too) and node-crypto.ts (sync,
 * raw keys, Node only).
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha1 } from '@noble/hashes/legacy.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { CROCKFORD_ALPHABET } from '../base32.js';
import { utf8 } from '../bytes.js';

/** SHA-256 (FIPS 180-4) of the parts, as if concatenated. */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  const hash = nobleSha256.create();
  for (const part of parts) hash.update(part);
  return hash.digest();
}

/** HMAC-SHA-256 (RFC 2104) of the parts, as if concatenated. */
export function hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const mac = hmac.create(nobleSha256, key);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

/** HMAC-SHA-1, for HOTP (RFC 4226 §5.3) only. */
export function hmacSha1(key: Uint8Array, message: Uint8Array): Uint8Array {
  return hmac(sha1, key, message);
}

/** HKDF-SHA-256 (RFC 5869), extract then expand; a text `info` is its UTF-8 bytes. */
export function hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array | string, length: number): Uint8Array {
  return hkdf(nobleSha256, ikm, salt, typeof info === 'string' ? utf8(info) : info, length);
}

/** Constant-time comparison: the time depends on the lengths only, never on where the bytes differ. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Where random bytes come from; tests of pure state machines inject a deterministic one. */
export type RandomSource = (length: number) => Uint8Array;

/** `length` bytes from the CSPRNG. */
export const randomBytes: RandomSource = (length) => globalThis.crypto.getRandomValues(new Uint8Array(length));

/** The default RandomSource. */
export const systemRandom: RandomSource = randomBytes;

/** `count` uniformly random Crockford base32 symbols as ASCII bytes (a byte's low 5 bits: 256 is a multiple of 32), for the caller to wipe. */
export function randomCrockfordBytes(count: number, random: RandomSource = randomBytes): Uint8Array {
  const bytes = random(count);
  for (let i = 0; i < count; i++) bytes[i] = CROCKFORD_ALPHABET.charCodeAt(bytes[i]! & 31);
  return bytes;
}

/** `count` uniformly random Crockford base32 symbols (ids, pairing codes). */
export function randomCrockford(count: number): string {
  return String.fromCharCode(...randomCrockfordBytes(count));
}
