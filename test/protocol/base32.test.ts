import { describe, expect, it } from 'vitest';
import { crockfordSymbols, decodeBase32, encodeBase32 } from '../../protocol/base32.js';
import { utf8 } from '../../protocol/bytes.js';

const ascii = (b: Uint8Array) => String.fromCharCode(...b);

describe('base32', () => {
  it('matches the RFC 4648 §10 vectors (without padding)', () => {
    const cases: [string, string][] = [
      ['', ''],
      ['f', 'MY'],
      ['fo', 'MZXQ'],
      ['foo', 'MZXW6'],
      ['foob', 'MZXW6YQ'],
      ['fooba', 'MZXW6YTB'],
      ['foobar', 'MZXW6YTBOI'],
    ];
    for (const [plain, encoded] of cases) {
      expect(ascii(encodeBase32(utf8(plain)))).toBe(encoded);
      expect(ascii(decodeBase32(encoded.toLowerCase()))).toBe(plain);
      expect(ascii(decodeBase32(`${encoded}====`))).toBe(plain);
    }
  });

  it('round-trips random bytes and refuses characters or lengths no encoder makes', () => {
    for (let n = 0; n < 40; n++) {
      const bytes = crypto.getRandomValues(new Uint8Array(n));
      expect(decodeBase32(ascii(encodeBase32(bytes)))).toEqual(bytes);
    }
    expect(() => decodeBase32('MZXW1')).toThrow(/outside/);
    expect(() => decodeBase32('M')).toThrow(/length/);
    expect(() => decodeBase32('MZ')).toThrow(/trailing bits/);
  });

  it('takes Crockford symbols most significant bit first', () => {
    expect(ascii(crockfordSymbols(new Uint8Array([0xff, 0xff]), 3))).toBe('ZZZ');
    expect(ascii(crockfordSymbols(new Uint8Array([0b00001000, 0b10001100]), 3))).toBe('126');
    expect(() => crockfordSymbols(new Uint8Array(1), 2)).toThrow(RangeError);
  });
});
