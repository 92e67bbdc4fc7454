/**
 * An upgrade loses nothing (docs/offline-pins.md "Verifiers at rest"): a journal the agent wrote
 * before the `argon2id-hkdf-v1` pool format (fixtures/journal-from-main-1832333.json, made by the
 * code of commit 1832333) reads, its PINs verify exactly as before, it takes new records, and a
 * pool issued now beside it uses the new format.
 */
import { readFileSync, promises as fs } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { issuePool } from '../../../agent/offline-pin/offline-pin-pool.js';
import { verifyOfflinePin } from '../../../agent/offline-pin/verify-offline-pin.js';
import { deriveSealingKeys } from '../../../agent/state/state-journal.js';
import type { UserState } from '../../../agent/state/user-state.js';
import { UserStateStore } from '../../../agent/state/user-state-store.js';
import { ManualClock } from '../../../platform/clock.js';
import { utf8 } from '../../../protocol/bytes.js';
import { DEFAULT_POLICY } from '../../../protocol/policy-settings.js';
import { makeTempDir } from '../../helpers/agent-harness.js';

const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/journal-from-main-1832333.json', import.meta.url), 'utf8'),
) as {
  user: string;
  sealingKeyHex: string;
  journalHex: string;
  clock: { wallMs: number };
  pins: string[];
  poolId: string;
};
const keys = deriveSealingKeys(Buffer.from(fixture.sealingKeyHex, 'hex'));
const policy = { ...DEFAULT_POLICY, offlineMode: true, pinCount: 5 };
const KDF = { algorithm: 'argon2id', version: 19, memoryKiB: 8, iterations: 1, parallelism: 1 } as const;

async function storeWithFixture() {
  const dir = await makeTempDir();
  const store = new UserStateStore(dir, async () => keys);
  await fs.writeFile(store.fileFor(fixture.user), Buffer.from(fixture.journalHex, 'hex'), { mode: 0o600 });
  return { dir, store };
}

describe('a journal written before the argon2id-hkdf-v1 format', () => {
  it('reads, verifies its remaining PINs with raw Argon2id verifiers, and keeps working after new records', async () => {
    const clock = new ManualClock({ wallMs: fixture.clock.wallMs });
    const { dir, store } = await storeWithFixture();
    const state = (await store.read(fixture.user))!;
    const pool = state.pools[0]!;
    expect(pool.poolId).toBe(fixture.poolId);
    expect(pool.verifier).toBeUndefined();
    expect(pool.verifiers.map((verifier) => [verifier.c, verifier.credentialKey])).toEqual([
      [1, undefined],
      [2, undefined],
      [3, undefined],
      [4, undefined],
    ]);
    expect(state.windowsCredential).toBeNull();

    const verify = (from: UserState, pin: string) =>
      verifyOfflinePin({
        user: fixture.user,
        state: from,
        policy,
        pin: utf8(pin),
        now: clock.now(),
        tagKey: keys.tagKey,
        wantCredentialSeed: true,
      });
    expect((await verify(state, fixture.pins[0]!)).decision).toMatchObject({ ok: false, reason: 'wrong-pin' });
    const second = await verify(state, fixture.pins[1]!);
    expect(second.decision).toMatchObject({ ok: true, remaining: 3 });
    expect(second.pinKey).toBeUndefined(); // a raw-verifier pool holds no credential key
    await store.write(second.nextState!);

    // A pool issued now, beside the old one: the new format; both verify after a fresh read.
    const { pool: fresh } = await issuePool({
      user: fixture.user,
      host: 'ws',
      authenticatorId: 'tablet',
      format: { charset: 'alphanumeric', length: 8 },
      pinCount: 3,
      kdf: KDF,
      now: clock.now(),
    });
    expect(fresh.verifier).toBe('argon2id-hkdf-v1');
    await store.write({
      ...second.nextState!,
      generation: second.nextState!.generation + 1,
      pools: [...second.nextState!.pools, fresh],
    });
    const reread = (await new UserStateStore(dir, async () => keys).read(fixture.user))!;
    expect(reread.pools.map((p) => p.verifier)).toEqual([undefined, 'argon2id-hkdf-v1']);
    const third = await verify(reread, fixture.pins[2]!);
    expect(third.decision).toMatchObject({ ok: true, authenticatorId: 'phone', remaining: 2 });
  });
});
