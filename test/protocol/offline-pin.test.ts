import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromHex, utf8 } from '../../protocol/bytes.js';
import { hotp } from '../../protocol/hotp.js';
import { deriveOfflinePin, formatPinForDisplay, normalizePinInput } from '../../protocol/offline-pin.js';
import type { PinCharset } from '../../protocol/offline-pin.js';

interface Vectors {
  rfc4226: { secretHex: string; counter: number; digits: number; pin: string }[];
  derived: { seedHex: string; counter: number; charset: PinCharset; length: number; pin: string }[];
  normalization: { input: string; charset: PinCharset; normalized: string | null }[];
}
const vectors = JSON.parse(readFileSync(new URL('../vectors/offline-pins.json', import.meta.url), 'utf8')) as Vectors;
const ascii = (bytes: Uint8Array | null) => (bytes === null ? null : String.fromCharCode(...bytes));

describe('offline PIN derivation (docs/offline-pins.md)', () => {
  it('numeric PINs are RFC 4226 HOTP (vector file, generated independently in Python)', () => {
    for (const v of vectors.rfc4226) expect(ascii(hotp(fromHex(v.secretHex), v.counter, v.digits))).toBe(v.pin);
  });

  it('derives every vector for both charsets and every length', () => {
    expect(vectors.derived.length).toBeGreaterThan(100);
    for (const v of vectors.derived) {
      expect(ascii(deriveOfflinePin(fromHex(v.seedHex), v.counter, { charset: v.charset, length: v.length }))).toBe(
        v.pin,
      );
    }
  });

  it('alphanumeric PINs use only the Crockford alphabet and a shorter PIN is a prefix of a longer one', () => {
    const seed = fromHex(vectors.derived[0]!.seedHex);
    const long = ascii(deriveOfflinePin(seed, 5, { charset: 'alphanumeric', length: 13 }))!;
    expect(long).toMatch(/^[0-9A-HJKMNP-TV-Z]{13}$/);
    expect(ascii(deriveOfflinePin(seed, 5, { charset: 'alphanumeric', length: 8 }))).toBe(long.slice(0, 8));
  });

  it('refuses out-of-range lengths, short seeds and bad counters with the parameter named', () => {
    const seed = new Uint8Array(32);
    expect(() => deriveOfflinePin(seed, 0, { charset: 'numeric', length: 9 })).toThrow(
      /pinLength for numeric PINs must be an integer from 6 to 8/,
    );
    expect(() => deriveOfflinePin(seed, 0, { charset: 'alphanumeric', length: 14 })).toThrow(/from 6 to 13/);
    expect(() => deriveOfflinePin(new Uint8Array(8), 0, { charset: 'numeric', length: 6 })).toThrow(/seed/);
    expect(() => deriveOfflinePin(seed, -1, { charset: 'numeric', length: 6 })).toThrow(/counter/);
    expect(() => deriveOfflinePin(seed, 1.5, { charset: 'numeric', length: 6 })).toThrow(/counter/);
  });
});

describe('typed input normalisation', () => {
  it('follows the vector file', () => {
    for (const v of vectors.normalization)
      expect(ascii(normalizePinInput(utf8(v.input), v.charset)), v.input).toBe(v.normalized);
  });

  it('displays alphanumeric PINs in groups of four, and the display form normalises back', () => {
    const pin = utf8('K7QM2XHDA');
    const shown = formatPinForDisplay(pin, 'alphanumeric');
    expect(shown).toBe('K7QM-2XHD-A');
    expect(ascii(normalizePinInput(utf8(shown.toLowerCase()), 'alphanumeric'))).toBe('K7QM2XHDA');
    expect(formatPinForDisplay(utf8('01234567'), 'numeric')).toBe('01234567');
  });
});
