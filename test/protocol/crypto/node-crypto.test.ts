import { describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../../../protocol/bytes.js';
import { aeadOpen, aeadSeal, ed25519PublicKey, ed25519Sign } from '../../../protocol/crypto/node-crypto.js';
import { ed25519Verify, x25519, x25519PublicKey } from '../../../protocol/crypto/node-crypto.js';
import { hex } from '../../ble/protocol/vectors.js';
import { hkdfSha256 } from '../../../protocol/crypto/hashes.js';

describe('BLE crypto primitives against their RFC vectors', () => {
  it('X25519: RFC 7748 §6.1 Alice and Bob', () => {
    const alice = hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
    const bob = hex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb');
    expect(toHex(x25519PublicKey(alice))).toBe('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
    expect(toHex(x25519(alice, x25519PublicKey(bob))!)).toBe(
      '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742',
    );
  });

  it('X25519 refuses low-order points (all-zero secret) instead of returning zeros', () => {
    const key = hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
    expect(x25519(key, new Uint8Array(32))).toBeNull();
    expect(x25519(key, Uint8Array.of(1, ...new Uint8Array(31)))).toBeNull();
    expect(x25519(key, new Uint8Array(31))).toBeNull();
  });

  it('Ed25519: RFC 8032 §7.1 TEST 1 and TEST 2', () => {
    const seed = hex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
    const pub = ed25519PublicKey(seed);
    expect(toHex(pub)).toBe('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
    const sig = ed25519Sign(seed, new Uint8Array(0));
    expect(toHex(sig)).toBe(
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    );
    expect(ed25519Verify(pub, new Uint8Array(0), sig)).toBe(true);
    const seed2 = hex('4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb');
    expect(toHex(ed25519Sign(seed2, Uint8Array.of(0x72)))).toBe(
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
    );
  });

  it('Ed25519 verification fails closed on a wrong message, a bad key or a short signature', () => {
    const seed = hex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
    const pub = ed25519PublicKey(seed);
    const sig = ed25519Sign(seed, utf8('m'));
    expect(ed25519Verify(pub, utf8('n'), sig)).toBe(false);
    expect(ed25519Verify(new Uint8Array(32).fill(0xff), utf8('m'), sig)).toBe(false);
    expect(ed25519Verify(pub, utf8('m'), sig.subarray(0, 63))).toBe(false);
  });

  it('ChaCha20-Poly1305: RFC 8439 §2.8.2, and a flipped bit does not open', () => {
    const key = Uint8Array.from({ length: 32 }, (_, i) => 0x80 + i);
    const plaintext = utf8(
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
    );
    const aad = hex('50515253c0c1c2c3c4c5c6c7');
    // The RFC's nonce is 07000000 ‖ 4041424344454647; ours is 00000000 ‖ uint64_be(n), so check round trips here
    // and the RFC bytes through the Python generator's self-check.
    const sealed = aeadSeal(key, 7, aad, plaintext);
    expect(toHex(aeadOpen(key, 7, aad, sealed)!)).toBe(toHex(plaintext));
    const tampered = sealed.slice();
    tampered[3]! ^= 1;
    expect(aeadOpen(key, 7, aad, tampered)).toBeNull();
    expect(aeadOpen(key, 8, aad, sealed)).toBeNull();
    expect(aeadOpen(key, 7, utf8('other'), sealed)).toBeNull();
    expect(aeadOpen(key, 7, aad, sealed.subarray(0, 15))).toBeNull();
  });

  it('HKDF-SHA-256: RFC 5869 A.1', () => {
    const okm = hkdfSha256(
      new Uint8Array(22).fill(0x0b),
      Uint8Array.from({ length: 13 }, (_, i) => i),
      Uint8Array.from({ length: 10 }, (_, i) => 0xf0 + i),
      42,
    );
    expect(toHex(okm)).toBe('3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865');
  });

  it('names the bad parameter', () => {
    expect(() => ed25519PublicKey(new Uint8Array(31))).toThrow(/seed must be 32 bytes/);
    expect(() => aeadSeal(new Uint8Array(32), -1, new Uint8Array(0), new Uint8Array(0))).toThrow(RangeError);
  });
});
