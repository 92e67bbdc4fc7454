import { argon2id } from '@noble/hashes/argon2.js';
import { describe, expect, it } from 'vitest';
import { DEFAULT_KDF, computeVerifier, isBelowFloor } from '../../../agent/offline-pin/kdf.js';
import { utf8 } from '../../../protocol/bytes.js';

describe('verifier KDF (docs/offline-pins.md "Verifiers at rest")', () => {
  it('is Argon2id v1.3 as an independent implementation computes it', async () => {
    const salt = Uint8Array.from({ length: 16 }, (_, i) => i);
    for (const [memoryKiB, iterations] of [
      [8, 1],
      [64, 3],
      [1024, 2],
    ] as const) {
      const params = { ...DEFAULT_KDF, memoryKiB, iterations };
      const ours = await computeVerifier(utf8('K7QM2XHD'), salt, params);
      const theirs = argon2id(utf8('K7QM2XHD'), salt, { t: iterations, m: memoryKiB, p: 1, dkLen: 32, version: 0x13 });
      expect(Buffer.from(ours).toString('hex')).toBe(Buffer.from(theirs).toString('hex'));
    }
  });

  it('refuses a salt of the wrong size and knows which settings are below the floor', async () => {
    await expect(computeVerifier(utf8('x'), new Uint8Array(8), DEFAULT_KDF)).rejects.toThrow(RangeError);
    expect(isBelowFloor(DEFAULT_KDF)).toBe(false);
    expect(isBelowFloor({ ...DEFAULT_KDF, memoryKiB: 8, iterations: 1 })).toBe(true);
  });
});
