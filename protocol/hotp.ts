import { uint64BigEndian, wipe } from './bytes.js';
import { hmacSha1 } from './crypto/hashes.js';

export const HOTP_MIN_DIGITS = 6;
export const HOTP_MAX_DIGITS = 8;

/** RFC 4226 §5.3: HMAC-SHA-1 over the 8-byte counter, then dynamic truncation (31 bits). */
export function hotpTruncated(key: Uint8Array, counter: number): number {
  const mac = hmacSha1(key, uint64BigEndian(counter));
  const offset = mac[19]! & 0x0f;
  const value = ((mac[offset]! & 0x7f) << 24) | (mac[offset + 1]! << 16) | (mac[offset + 2]! << 8) | mac[offset + 3]!;
  wipe(mac);
  return value;
}

/** RFC 4226 HOTP value with `digits` digits, zero-padded, as ASCII bytes. */
export function hotp(key: Uint8Array, counter: number, digits: number): Uint8Array {
  if (!Number.isInteger(digits) || digits < HOTP_MIN_DIGITS || digits > HOTP_MAX_DIGITS) {
    throw new RangeError(`digits must be an integer from ${HOTP_MIN_DIGITS} to ${HOTP_MAX_DIGITS} (got ${digits})`);
  }
  let value = hotpTruncated(key, counter) % 10 ** digits;
  const out = new Uint8Array(digits);
  for (let i = digits - 1; i >= 0; i--) {
    out[i] = 0x30 + (value % 10);
    value = Math.floor(value / 10);
  }
  return out;
}
