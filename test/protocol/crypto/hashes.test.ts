import { describe, expect, it } from 'vitest';
import { fromHex, toHex, utf8 } from '../../../protocol/bytes.js';
import { CROCKFORD_ALPHABET } from '../../../protocol/base32.js';
import { equalBytes, hkdfSha256, hmacSha1, hmacSha256, randomCrockford } from '../../../protocol/crypto/hashes.js';
import { randomCrockfordBytes, sha256 } from '../../../protocol/crypto/hashes.js';
import { aes256GcmOpen, aes256GcmSeal } from '../../../protocol/crypto/node-crypto.js';

describe('the crypto module against its RFC vectors', () => {
  it('SHA-256: FIPS 180-2 "abc", and parts hash as if concatenated', () => {
    expect(toHex(sha256(utf8('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(toHex(sha256(utf8('a'), utf8('bc')))).toBe(toHex(sha256(utf8('abc'))));
  });

  it('HMAC-SHA-256: RFC 4231 test case 2; HMAC-SHA-1: RFC 2202 test case 2', () => {
    expect(toHex(hmacSha256(utf8('Jefe'), utf8('what do ya want '), utf8('for nothing?')))).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
    expect(toHex(hmacSha1(utf8('Jefe'), utf8('what do ya want for nothing?')))).toBe(
      'effcdf6ae5eb2fa2d27416d5f184df9c259a7c79',
    );
  });

  it('HKDF-SHA-256 takes a text info as its UTF-8 bytes', () => {
    const ikm = new Uint8Array(22).fill(0x0b);
    expect(toHex(hkdfSha256(ikm, new Uint8Array(0), 'latchkey', 32))).toBe(
      toHex(hkdfSha256(ikm, new Uint8Array(0), utf8('latchkey'), 32)),
    );
  });

  it('compares in constant time and tells lengths apart', () => {
    expect(equalBytes(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 3))).toBe(true);
    expect(equalBytes(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 4))).toBe(false);
    expect(equalBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 3))).toBe(false);
  });

  it('draws Crockford symbols only', () => {
    expect(randomCrockford(26)).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect([...randomCrockfordBytes(200)].every((byte) => CROCKFORD_ALPHABET.includes(String.fromCharCode(byte)))).toBe(
      true,
    );
  });

  it('AES-256-GCM: McGrew–Viega test case 14 (zero key, nonce and block), and a flipped bit does not open', () => {
    const key = new Uint8Array(32);
    const nonce = new Uint8Array(12);
    const sealed = aes256GcmSeal(key, nonce, new Uint8Array(16), new Uint8Array(0));
    expect(toHex(sealed)).toBe('cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919');
    expect(toHex(aes256GcmOpen(key, nonce, sealed, new Uint8Array(0))!)).toBe('00000000000000000000000000000000');
    const flipped = fromHex(toHex(sealed));
    flipped[0]! ^= 1;
    expect(aes256GcmOpen(key, nonce, flipped, new Uint8Array(0))).toBeNull();
    expect(aes256GcmOpen(key, nonce, sealed, utf8('other aad'))).toBeNull();
  });
});
