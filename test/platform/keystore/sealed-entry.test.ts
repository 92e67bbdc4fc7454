// The entry format against an independent implementation (vectors/generate-keystore-entry-vectors.py,
// Python `cryptography`): docs/keystore.md, "`file`: the sealed root-only store".
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KeystoreError } from '../../../platform/keystore/errors.js';
import { entryAad, entryFileName, openEntry, sealEntry } from '../../../platform/keystore/sealed-entry.js';

interface Vectors {
  hostKey: string;
  valid: { name: string; fileName: string; secret: string; entry: string }[];
  invalid: { why: string; name: string; entry: string }[];
}
const vectors = JSON.parse(
  readFileSync(new URL('./vectors/keystore-entries.json', import.meta.url), 'utf8'),
) as Vectors;
const hostKey = Buffer.from(vectors.hostKey, 'hex');
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('keystore entry format', () => {
  it('opens every entry sealed by the independent implementation, and names files by sha256(name)', () => {
    for (const vector of vectors.valid) {
      expect(Buffer.from(openEntry(hostKey, vector.name, bytes(vector.entry), 'vector')).toString('hex')).toBe(
        vector.secret,
      );
      expect(entryFileName(vector.name)).toBe(vector.fileName);
    }
  });

  for (const vector of vectors.invalid) {
    it(`refuses an entry ${vector.why} as keystore-tampered`, () => {
      let thrown: unknown;
      try {
        openEntry(hostKey, vector.name, bytes(vector.entry), 'vector');
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(KeystoreError);
      expect((thrown as KeystoreError).code).toBe('keystore-tampered');
    });
  }

  it('binds the name as "latchkey-keystore-entry/v1" || 0x00 || UTF-8(name)', () => {
    expect(Buffer.from(entryAad('a/b')).toString('latin1')).toBe('latchkey-keystore-entry/v1\u0000a/b');
  });

  it('seals with a fresh nonce every time and opens what it sealed', () => {
    const secret = Uint8Array.of(0, 1, 2, 0);
    const first = sealEntry(hostKey, 'n', secret);
    const second = sealEntry(hostKey, 'n', secret);
    expect(Buffer.from(first).equals(Buffer.from(second))).toBe(false);
    expect(Array.from(openEntry(hostKey, 'n', first, 'memory'))).toEqual([0, 1, 2, 0]);
    expect(Array.from(openEntry(hostKey, 'n', second, 'memory'))).toEqual([0, 1, 2, 0]);
  });
});
