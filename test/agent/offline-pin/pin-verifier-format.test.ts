/**
 * The pool verifier format `argon2id-hkdf-v1` (docs/windows.md §6.2, docs/offline-pins.md
 * "Verifiers at rest") against the independent Python vectors (test/vectors/windows-credential.json
 * `userState`): one Argon2id per PIN makes the verifier and the credential key; pools without the
 * field keep raw Argon2id verifiers and verify as before.
 */
import { readFileSync } from 'node:fs';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { openPinCopy } from '../../../agent/offline-pin/credential-copies.js';
import { HKDF_VERIFIER_FORMAT, computeVerifier, type KdfParams } from '../../../agent/offline-pin/kdf.js';
import { issuePool } from '../../../agent/offline-pin/offline-pin-pool.js';
import { verifyOfflinePin } from '../../../agent/offline-pin/verify-offline-pin.js';
import { UserStateSchema, resolveStoredState, type UserState } from '../../../agent/state/user-state.js';
import { ManualClock } from '../../../platform/clock.js';
import { utf8 } from '../../../protocol/bytes.js';
import { pinCredentialSeedOf, pinVerifierOf, x25519PairFromSeed } from '../../../protocol/credential-wrap.js';
import { DEFAULT_POLICY } from '../../../protocol/policy-settings.js';

const vectors = JSON.parse(readFileSync(new URL('../../vectors/windows-credential.json', import.meta.url), 'utf8'));
const vector = vectors.userState as {
  state: unknown;
  pins: Record<string, string[]>;
  passwordHex: string;
};
const policy = { ...DEFAULT_POLICY, offlineMode: true };
const tagKey = new Uint8Array(32).fill(3);
// The vector's pools were issued at this wall time in boot `boot-1`: read them a minute later.
const clock = () => new ManualClock({ wallMs: 1_795_000_060_000, bootId: 'boot-1', uptimeMs: 120_000 });

function vectorState(): UserState {
  const parsed = v.safeParse(UserStateSchema, structuredClone(vector.state));
  if (!parsed.success) throw new Error(JSON.stringify(parsed.issues.map((issue) => issue.message)));
  return resolveStoredState(parsed.output, null);
}

function counting() {
  let calls = 0;
  const verifier = async (pin: Uint8Array, salt: Uint8Array, kdf: KdfParams) => {
    calls++;
    return computeVerifier(pin, salt, kdf);
  };
  return { verifier, calls: () => calls };
}

const verify = (
  state: UserState,
  pin: string,
  options: { wantCredentialSeed?: boolean; verifier?: ReturnType<typeof counting>['verifier'] } = {},
) => verifyOfflinePin({ user: state.user, state, policy, pin: utf8(pin), now: clock().now(), tagKey, ...options });

describe('pool verifier format argon2id-hkdf-v1 (Python vectors)', () => {
  it('accepts each PIN of the new-format pool with one Argon2id, and yields seed_c that opens its copy', async () => {
    const state = vectorState();
    expect(state.pools.map((pool) => pool.verifier)).toEqual([undefined, HKDF_VERIFIER_FORMAT]);
    for (const [c, pin] of vector.pins.phone!.entries()) {
      const kdf = counting();
      const result = await verify(state, pin, { wantCredentialSeed: true, verifier: kdf.verifier });
      expect(result.decision).toMatchObject({ ok: true, authenticatorId: 'phone' });
      expect(kdf.calls()).toBeLessThanOrEqual(5); // one Argon2id per candidate at most: 2 + 3 PINs
      expect(result.pinKey).toMatchObject({ poolId: '0f'.repeat(16), c });
      const opened = await openPinCopy(state, result.pinKey!);
      expect(opened.ok && Buffer.from(opened.password).toString('hex')).toBe(vector.passwordHex);
    }
  });

  it('accepts the old-format pool PINs as before: raw Argon2id, no credential key', async () => {
    const state = vectorState();
    for (const pin of vector.pins['old-phone']!) {
      const result = await verify(state, pin, { wantCredentialSeed: true });
      expect(result.decision).toMatchObject({ ok: true, authenticatorId: 'old-phone' });
      expect(result.pinKey).toBeUndefined();
    }
  });

  it('costs one Argon2id for the next PIN, as before the format', async () => {
    const state = vectorState();
    const onlyNew: UserState = { ...state, pools: [state.pools[1]!] };
    const kdf = counting();
    expect((await verify(onlyNew, vector.pins.phone![0]!, { verifier: kdf.verifier })).decision.ok).toBe(true);
    expect(kdf.calls()).toBe(1);
  });

  it('gives no seed unless asked, and refuses a wrong PIN', async () => {
    const state = vectorState();
    expect((await verify(state, vector.pins.phone![0]!)).pinKey).toBeUndefined();
    expect((await verify(state, 'ZZZZZZZZ')).decision).toMatchObject({ ok: false, reason: 'wrong-pin' });
  });

  it('does not take the raw Argon2id output for a verifier in a new-format pool, nor the reverse', async () => {
    const state = vectorState();
    const [raw, hkdf] = state.pools as [UserState['pools'][number], UserState['pools'][number]];
    const swapped: UserState = {
      ...state,
      windowsCredential: null,
      pools: [
        {
          ...raw,
          verifier: HKDF_VERIFIER_FORMAT,
          verifiers: raw.verifiers.map((x) => ({ ...x, credentialKey: new Uint8Array(32) })),
        },
        { ...hkdf, verifier: undefined, verifiers: hkdf.verifiers.map(({ c, salt, hash }) => ({ c, salt, hash })) },
      ],
    };
    expect((await verify(swapped, vector.pins['old-phone']![0]!)).decision.ok).toBe(false);
    expect((await verify(swapped, vector.pins.phone![0]!)).decision.ok).toBe(false);
  });
});

describe('issuing a pool', () => {
  it('keeps per counter the salt, verifier_c and P_c of one Argon2id evaluation, never A_c or seed_c', async () => {
    const kdf = counting();
    const params = { algorithm: 'argon2id', version: 19, memoryKiB: 8, iterations: 1, parallelism: 1 } as const;
    const { pool } = await issuePool({
      user: 'alice',
      host: 'ws',
      authenticatorId: 'phone',
      format: { charset: 'alphanumeric', length: 8 },
      pinCount: 4,
      kdf: params,
      now: clock().now(),
      verifier: kdf.verifier,
    });
    expect(kdf.calls()).toBe(4);
    expect(pool.verifier).toBe(HKDF_VERIFIER_FORMAT);
    expect(pool.verifiers.every((x) => x.credentialKey?.length === 32 && x.hash.length === 32)).toBe(true);
    expect(Object.keys(pool.verifiers[0]!).sort()).toEqual(['c', 'credentialKey', 'hash', 'salt']);
    expect(new Set(pool.verifiers.map((x) => Buffer.from(x.credentialKey!).toString('hex'))).size).toBe(4);
  });

  it('derives verifier_c and P_c as the Python vectors do', async () => {
    for (const key of vectors.pinKeys as { argon2Hex: string; verifierHex: string; publicKeyHex: string }[]) {
      const a = Buffer.from(key.argon2Hex, 'hex');
      expect(Buffer.from(pinVerifierOf(a)).toString('hex')).toBe(key.verifierHex);
      const pair = await x25519PairFromSeed(pinCredentialSeedOf(a));
      expect(Buffer.from(pair.publicKey).toString('hex')).toBe(key.publicKeyHex);
    }
  });
});
