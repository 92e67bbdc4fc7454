/**
 * docs/windows.md §6 against the independent Python vectors (test/vectors/windows-credential.json):
 * one Argon2id evaluation → verifier + key pair, the padded block, copies to a PIN and to a phone,
 * a phone's release, the credential request transcript, and every refusal.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { computeVerifier } from '../../agent/offline-pin/kdf.js';
import { fromHex, toHex } from '../../protocol/bytes.js';
import {
  MAX_BLOCK_BYTES,
  copyKeyFor,
  credentialRequestTranscript,
  openCopy,
  openRelease,
  padPassword,
  poolCarriesCopies,
  sealRelease,
  splitPinKey,
  unpadPassword,
  unwrapCredential,
  wrapCredential,
  x25519PairFromSeed,
  type CopyBinding,
  type CredentialRequest,
  type ReleaseIds,
  type WrappedCopy,
} from '../../protocol/credential-wrap.js';
import { utf16le } from '../../protocol/windows-logon-credential.js';

interface HexCopy {
  ephHex: string;
  nonceHex: string;
  ciphertextHex: string;
}
interface CopyCase {
  name: string;
  recipientSeedHex: string;
  recipientPublicHex: string;
  ephemeralSeedHex: string;
  binding: CopyBinding;
  passwordHex: string;
  aadHex: string;
  copyKeyHex: string;
  copy: HexCopy;
}
const vectors = JSON.parse(readFileSync(new URL('../vectors/windows-credential.json', import.meta.url), 'utf8')) as {
  pinKeys: {
    pin: string;
    saltHex: string;
    kdf: { memoryKiB: number; iterations: number };
    argon2Hex: string;
    verifierHex: string;
    credentialSeedHex: string;
    publicKeyHex: string;
  }[];
  padding: { name: string; passwordHex: string; blockHex: string }[];
  invalidBlocks: { name: string; blockHex: string }[];
  invalidPasswords: { name: string; passwordHex: string }[];
  copies: CopyCase[];
  invalidCopies: { name: string; change: { binding?: CopyBinding } & Partial<HexCopy>; code: string }[];
  release: { requestSeedHex: string; requestKeyHex: string; ids: ReleaseIds; keyHex: string; box: HexCopy };
  credentialRequest: { request: CredentialRequest; transcriptHex: string };
};

const copyOf = (hex: HexCopy): WrappedCopy => ({
  eph: fromHex(hex.ephHex),
  nonce: fromHex(hex.nonceHex),
  ciphertext: fromHex(hex.ciphertextHex),
});

describe('one Argon2id evaluation makes the verifier and the key pair (§6.2)', () => {
  it.each(vectors.pinKeys.map((c) => [c.pin, c] as const))('PIN %s', async (_pin, c) => {
    const kdf = { algorithm: 'argon2id', version: 19, parallelism: 1, ...c.kdf } as const;
    const argon2 = await computeVerifier(new TextEncoder().encode(c.pin), fromHex(c.saltHex), kdf);
    expect(toHex(argon2)).toBe(c.argon2Hex); // the agent's own evaluation, as pools make it today
    const { verifier, credentialSeed } = await splitPinKey(argon2);
    expect(toHex(verifier)).toBe(c.verifierHex);
    expect(toHex(credentialSeed)).toBe(c.credentialSeedHex);
    expect(toHex((await x25519PairFromSeed(credentialSeed)).publicKey)).toBe(c.publicKeyHex);
    expect(verifier).not.toEqual(credentialSeed);
  });

  it('refuses an output that is not 32 bytes', async () => {
    await expect(splitPinKey(new Uint8Array(31))).rejects.toThrow(RangeError);
  });
});

describe('the password block (§6.4)', () => {
  it.each(vectors.padding.map((c) => [c.name, c] as const))('pads %s', (_name, c) => {
    const block = padPassword(fromHex(c.passwordHex));
    expect(toHex(block)).toBe(c.blockHex);
    expect(toHex(unpadPassword(block)!)).toBe(c.passwordHex);
  });

  it.each(vectors.invalidBlocks.map((c) => [c.name, c] as const))('refuses a block: %s', (_name, c) => {
    expect(unpadPassword(fromHex(c.blockHex))).toBeNull();
  });

  it.each(vectors.invalidPasswords.map((c) => [c.name, c] as const))('refuses a password: %s', (_name, c) => {
    expect(() => padPassword(fromHex(c.passwordHex))).toThrow(/password must be/);
  });

  it('hides the length within a block: 1 and 31 characters make the same size, the largest is 576 bytes', () => {
    expect(padPassword(utf16le('a')).length).toBe(padPassword(utf16le('a'.repeat(31))).length);
    expect(padPassword(utf16le('a'.repeat(256))).length).toBe(MAX_BLOCK_BYTES);
  });
});

describe('copies to a PIN and to a phone (§6.4)', () => {
  it.each(vectors.copies.map((c) => [c.name, c] as const))(
    '%s: the same bytes as Python, and it opens',
    async (_name, c) => {
      const recipient = await x25519PairFromSeed(fromHex(c.recipientSeedHex));
      expect(toHex(recipient.publicKey)).toBe(c.recipientPublicHex);
      const copy = await wrapCredential(recipient.publicKey, fromHex(c.passwordHex), c.binding, {
        ephemeralSeed: fromHex(c.ephemeralSeedHex),
        nonce: fromHex(c.copy.nonceHex),
      });
      expect({ ephHex: toHex(copy.eph), nonceHex: toHex(copy.nonce), ciphertextHex: toHex(copy.ciphertext) }).toEqual(
        c.copy,
      );
      expect(toHex((await copyKeyFor(recipient, copy.eph))!)).toBe(c.copyKeyHex);
      const opened = await unwrapCredential(recipient, copyOf(c.copy), c.binding);
      expect(opened.ok && toHex(opened.password)).toBe(c.passwordHex);
    },
  );

  it('a phone releases only the copy key; the key alone opens the copy', async () => {
    const c = vectors.copies[1]!;
    const opened = await openCopy(fromHex(c.copyKeyHex), copyOf(c.copy), c.binding);
    expect(opened.ok && toHex(opened.password)).toBe(c.passwordHex);
  });

  it.each(vectors.invalidCopies.map((c) => [c.name, c] as const))('refuses %s', async (_name, invalid) => {
    const c = vectors.copies[0]!;
    const recipient = await x25519PairFromSeed(fromHex(c.recipientSeedHex));
    const { binding, ...hex } = invalid.change;
    const result = await unwrapCredential(recipient, copyOf({ ...c.copy, ...hex }), binding ?? c.binding);
    expect(result).toMatchObject({ ok: false, code: invalid.code });
  });

  it("another PIN's key does not open the copy", async () => {
    const c = vectors.copies[0]!;
    const other = await x25519PairFromSeed(fromHex(vectors.pinKeys[1]!.credentialSeedHex));
    expect(await unwrapCredential(other, copyOf(c.copy), c.binding)).toMatchObject({
      ok: false,
      code: 'copy-unopenable',
    });
  });

  it('fresh copies of the same password differ, and each opens', async () => {
    const pair = await x25519PairFromSeed(new Uint8Array(32).fill(7));
    const binding: CopyBinding = { holder: 'pin', sid: 'S-1-5-21-1-2-3-1001', generation: 1, poolId: 'aa', c: 0 };
    const [a, b] = [
      await wrapCredential(pair.publicKey, utf16le('hunter2'), binding),
      await wrapCredential(pair.publicKey, utf16le('hunter2'), binding),
    ];
    expect(toHex(a.ciphertext)).not.toBe(toHex(b.ciphertext));
    for (const copy of [a, b]) expect(await unwrapCredential(pair, copy, binding)).toMatchObject({ ok: true });
  });

  it('refuses a recipient that is not a public key', async () => {
    const binding: CopyBinding = { holder: 'phone', sid: 'S-1-5-18', generation: 1, deviceId: 'dev_x' };
    await expect(wrapCredential(new Uint8Array(31), utf16le('x'), binding)).rejects.toThrow(
      /recipient must be 32 bytes/,
    );
    await expect(wrapCredential(new Uint8Array(32), utf16le('x'), binding)).rejects.toThrow(/not a usable X25519/);
  });
});

describe('release by the phone (§6.5)', () => {
  const r = vectors.release;

  it('opens the Python release with the request key', async () => {
    const requestKey = await x25519PairFromSeed(fromHex(r.requestSeedHex));
    expect(toHex(requestKey.publicKey)).toBe(r.requestKeyHex);
    expect(toHex((await openRelease(requestKey, copyOf(r.box), r.ids))!)).toBe(r.keyHex);
  });

  it('refuses a release for another request, or not sealed to this request key', async () => {
    const requestKey = await x25519PairFromSeed(fromHex(r.requestSeedHex));
    expect(await openRelease(requestKey, copyOf(r.box), { ...r.ids, requestId: 'ar_other' })).toBeNull();
    expect(await openRelease(requestKey, copyOf(r.box), { ...r.ids, challenge: 'B'.repeat(43) })).toBeNull();
    const other = await x25519PairFromSeed(new Uint8Array(32).fill(9));
    expect(await openRelease(other, copyOf(r.box), r.ids)).toBeNull();
  });

  it('seals and opens its own release', async () => {
    const requestKey = await x25519PairFromSeed(new Uint8Array(32).fill(3));
    const key = new Uint8Array(32).fill(5);
    const box = await sealRelease(requestKey.publicKey, key, r.ids);
    expect(await openRelease(requestKey, box, r.ids)).toEqual(key);
  });

  it('signs the same credential request transcript as Python', () => {
    expect(toHex(credentialRequestTranscript(vectors.credentialRequest.request))).toBe(
      vectors.credentialRequest.transcriptHex,
    );
  });
});

describe('which pools carry copies (§6.7)', () => {
  it.each([
    ['alphanumeric', 8, true],
    ['alphanumeric', 13, true],
    ['alphanumeric', 7, false],
    ['numeric', 8, false],
  ] as const)('%s %i → %s', (charset, length, carries) => {
    expect(poolCarriesCopies(charset, length)).toBe(carries);
  });
});
