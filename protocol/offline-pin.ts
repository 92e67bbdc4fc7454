/**
 * Offline PIN derivation and input normalisation (docs/offline-pins.md). Pure: no I/O.
 * PINs travel as ASCII bytes so callers can wipe them.
 */
import { CROCKFORD_ALPHABET, crockfordSymbols } from './base32.js';
import { uint64BigEndian, utf8, wipe } from './bytes.js';
import { hmacSha256 } from './crypto/hashes.js';
import { ProtocolError } from './errors.js';
import { hotp } from './hotp.js';

export type PinCharset = 'alphanumeric' | 'numeric';

export interface PinFormat {
  readonly charset: PinCharset;
  readonly length: number;
}

export const SEED_BYTES = 32;
/** Longest typed input the agent accepts before normalisation (docs/ipc.md, field `pin`). */
export const MAX_PIN_INPUT_BYTES = 64;
export const PIN_LENGTH_RANGE: Readonly<Record<PinCharset, readonly [number, number]>> = {
  alphanumeric: [6, 13],
  numeric: [6, 8],
};
/** Largest counter a pool may use: keeps every counter a safe integer on every platform. */
export const MAX_COUNTER = 2 ** 48;

const ALPHANUMERIC_LABEL = utf8('latchkey/offline-pin/v1');

export function checkPinFormat(format: PinFormat): void {
  const range = PIN_LENGTH_RANGE[format.charset];
  if (range === undefined) throw new ProtocolError('bad-pin-format', `pinCharset must be "alphanumeric" or "numeric"`);
  if (!Number.isInteger(format.length) || format.length < range[0] || format.length > range[1]) {
    throw new ProtocolError(
      'bad-pin-format',
      `pinLength for ${format.charset} PINs must be an integer from ${range[0]} to ${range[1]} (got ${format.length})`,
    );
  }
}

function checkSeedAndCounter(seed: Uint8Array, counter: number): void {
  if (!(seed instanceof Uint8Array) || seed.length < 16 || seed.length > 64) {
    throw new ProtocolError('bad-seed', 'seed must be 16–64 bytes');
  }
  if (!Number.isSafeInteger(counter) || counter < 0 || counter > MAX_COUNTER) {
    throw new ProtocolError('bad-counter', `counter must be an integer from 0 to 2^48 (got ${counter})`);
  }
}

/** The PIN for `counter` (docs/offline-pins.md "Deriving the PIN"), as ASCII bytes. */
export function deriveOfflinePin(seed: Uint8Array, counter: number, format: PinFormat): Uint8Array {
  checkPinFormat(format);
  checkSeedAndCounter(seed, counter);
  if (format.charset === 'numeric') return hotp(seed, counter, format.length);
  const mac = hmacSha256(seed, ALPHANUMERIC_LABEL, new Uint8Array([0]), uint64BigEndian(counter));
  const pin = crockfordSymbols(mac, format.length);
  wipe(mac);
  return pin;
}

const SPACE = 0x20;
const TAB = 0x09;
const HYPHEN = 0x2d;

/**
 * Normalises what a person typed (docs/offline-pins.md "What the agent accepts"): spaces,
 * tabs and hyphens dropped; for alphanumeric input letters upper-cased and I/L → 1, O → 0.
 * Returns null for malformed input (a character outside the charset). The result is a new
 * buffer the caller wipes.
 */
export function normalizePinInput(input: Uint8Array, charset: PinCharset): Uint8Array | null {
  if (input.length === 0 || input.length > MAX_PIN_INPUT_BYTES) return null;
  const out = new Uint8Array(input.length);
  let length = 0;
  for (const byte of input) {
    if (byte === SPACE || byte === TAB || byte === HYPHEN) continue;
    let symbol = byte;
    if (charset === 'alphanumeric') {
      if (symbol >= 0x61 && symbol <= 0x7a) symbol -= 0x20; // a-z → A-Z
      if (symbol === 0x49 || symbol === 0x4c)
        symbol = 0x31; // I, L → 1
      else if (symbol === 0x4f) symbol = 0x30; // O → 0
      if (CROCKFORD_ALPHABET.indexOf(String.fromCharCode(symbol)) < 0) {
        wipe(out);
        return null;
      }
    } else if (symbol < 0x30 || symbol > 0x39) {
      wipe(out);
      return null;
    }
    out[length++] = symbol;
  }
  if (length === 0) {
    wipe(out);
    return null;
  }
  const result = out.slice(0, length);
  wipe(out);
  return result;
}

/** How the phone shows a PIN: alphanumeric in groups of four (`K7QM-2XHD`), numeric as is. */
export function formatPinForDisplay(pin: Uint8Array, charset: PinCharset): string {
  const text = String.fromCharCode(...pin);
  if (charset === 'numeric') return text;
  return text.match(/.{1,4}/g)!.join('-');
}
