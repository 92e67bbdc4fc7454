import { alphabetOf, decodeSymbols } from '../rfc4648.js';

/** base64url without padding (RFC 4648 §5), for keys, signatures and nonces on the wire. */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const BASE64URL = alphabetOf(ALPHABET);

export function toBase64url(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const b0 = bytes[i]!;
    const b1 = bytes[i + 1] ?? 0;
    const b2 = bytes[i + 2] ?? 0;
    out += ALPHABET[b0 >> 2]! + ALPHABET[((b0 & 3) << 4) | (b1 >> 4)]!;
    if (i + 1 < bytes.length) out += ALPHABET[((b1 & 15) << 2) | (b2 >> 6)]!;
    if (i + 2 < bytes.length) out += ALPHABET[b2 & 63]!;
  }
  return out;
}

/** Decodes strictly: only the alphabet, no padding, and no length or trailing bits an encoder never makes. */
export function fromBase64url(text: string): Uint8Array {
  if (text.length % 4 === 1) throw new TypeError('base64url text has an impossible length');
  const decoded = decodeSymbols(text, BASE64URL);
  if (decoded.ok) return decoded.bytes;
  if (decoded.problem === 'character') throw new TypeError('base64url text has a character outside A–Z a–z 0–9 - _');
  throw new TypeError('base64url text has trailing bits');
}

/** Decodes and checks the length, naming the field when it is wrong. */
export function fromBase64urlOfLength(text: string, length: number, field: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = fromBase64url(text);
  } catch (error) {
    throw new TypeError(`${field} is not base64url: ${(error as Error).message}`);
  }
  if (bytes.length !== length) throw new RangeError(`${field} must be ${length} bytes, got ${bytes.length}`);
  return bytes;
}
