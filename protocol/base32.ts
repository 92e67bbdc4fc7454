import { ProtocolError } from './errors.js';
import { alphabetOf, decodeSymbols } from './rfc4648.js';

/** RFC 4648 §6 alphabet, used for the `secret` of Key URIs. */
const RFC4648_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const RFC4648 = alphabetOf(RFC4648_ALPHABET);
/** Crockford's base32 alphabet: no I, L, O, U. */
export const CROCKFORD_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** Base32 (RFC 4648) without padding, as ASCII bytes so a secret never becomes a string. */
export function encodeBase32(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil((bytes.length * 8) / 5));
  let bits = 0;
  let buffer = 0;
  let index = 0;
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out[index++] = RFC4648_ALPHABET.charCodeAt((buffer >>> (bits - 5)) & 31);
      bits -= 5;
    }
  }
  if (bits > 0) out[index++] = RFC4648_ALPHABET.charCodeAt((buffer << (5 - bits)) & 31);
  return out;
}

/** Decodes RFC 4648 base32, case-insensitive, ignoring trailing `=` padding. */
export function decodeBase32(text: string): Uint8Array {
  const decoded = decodeSymbols(text.replace(/=+$/, '').toUpperCase(), RFC4648);
  if (decoded.ok) return decoded.bytes;
  if (decoded.problem === 'character')
    throw new ProtocolError('bad-base32', 'base32 text has a character outside A–Z, 2–7');
  throw new ProtocolError('bad-base32', 'base32 text has a length or trailing bits no encoder produces');
}

/**
 * The first `count` Crockford symbols of `bytes`, most significant bit first: symbol i takes
 * bits 5i … 5i+4 (docs/offline-pins.md). Returned as ASCII bytes.
 */
export function crockfordSymbols(bytes: Uint8Array, count: number): Uint8Array {
  if (count * 5 > bytes.length * 8) throw new RangeError(`need ${count * 5} bits, have ${bytes.length * 8}`);
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    let value = 0;
    for (let bit = 5 * i; bit < 5 * i + 5; bit++) {
      value = (value << 1) | ((bytes[bit >>> 3]! >>> (7 - (bit & 7))) & 1);
    }
    out[i] = CROCKFORD_ALPHABET.charCodeAt(value);
  }
  return out;
}
