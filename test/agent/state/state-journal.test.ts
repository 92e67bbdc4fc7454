/** Journal records that carry a pool's verifiers from the record before (docs/state-files.md "Carried verifiers"). */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FRESH_HAMMERING } from '../../../agent/offline-pin/anti-hammering.js';
import { DEFAULT_KDF } from '../../../agent/offline-pin/kdf.js';
import { deriveSealingKeys, encodeJournalHeader, parseJournal } from '../../../agent/state/state-journal.js';
import { sealRecord } from '../../../agent/state/state-journal.js';
import { CARRIED_VERIFIERS, emptyUserState, userStateToJson, type PoolState } from '../../../agent/state/user-state.js';
import type { UserState } from '../../../agent/state/user-state.js';
import { UserStateStore } from '../../../agent/state/user-state-store.js';
import { makeTempDir } from '../../helpers/agent-harness.js';

const keys = deriveSealingKeys(new Uint8Array(32).fill(3));
const USER = 'alice';

function pool(authenticatorId: string, size: number): PoolState {
  return {
    authenticatorId,
    poolId: randomBytes(16).toString('hex'),
    charset: 'alphanumeric',
    length: 8,
    start: 0,
    next: 0,
    limit: size,
    issuedAtMs: 1_795_000_000_000,
    issuedBootId: 'boot',
    issuedUptimeMs: 1_000,
    kdf: DEFAULT_KDF,
    verifiers: Array.from({ length: size }, (_, c) => ({
      c,
      salt: new Uint8Array(randomBytes(16)),
      hash: new Uint8Array(randomBytes(32)),
    })),
  };
}

/** What accepting the PIN for counter c does to a pool. */
const spend = (p: PoolState, c: number): PoolState => ({
  ...p,
  next: c + 1,
  verifiers: p.verifiers.filter((v) => v.c > c),
});

function withPools(generation: number, pools: PoolState[], pendingPools: UserState['pendingPools'] = []): UserState {
  return {
    ...emptyUserState(USER),
    generation,
    wallHighWaterMs: 1_795_000_000_000,
    pools,
    pendingPools,
    hammering: FRESH_HAMMERING,
  };
}

const journal = (...records: Buffer[]) => Buffer.concat([encodeJournalHeader(USER), ...records]);
const read = (bytes: Buffer) => parseJournal(bytes, USER, keys, 'test.journal');

describe('carried verifiers', () => {
  it("a record after the first carries an unchanged pool's verifiers and reads back whole", () => {
    const phone = pool('phone', 100);
    const first = withPools(1, [phone]);
    const second = withPools(2, [spend(phone, 0)]);
    const third = withPools(3, [spend(phone, 6)]); // PINs 1–5 skipped: they die with it
    const records = [sealRecord(first, keys), sealRecord(second, keys, first), sealRecord(third, keys, second)];
    expect(userStateToJson(second, first)).toMatchObject({ pools: [{ verifiers: CARRIED_VERIFIERS }] });
    expect(records[1]!.length).toBeLessThan(1_000);
    expect(records[0]!.length).toBeGreaterThan(9_000);
    const parsed = read(journal(...records));
    expect(parsed.records).toBe(3);
    expect(parsed.state).toEqual(third);
    expect(parsed.state.pools[0]!.verifiers.map((v) => v.c)).toEqual(Array.from({ length: 93 }, (_, i) => i + 7));
  });

  it('lists the verifiers of a new pool, and of one whose list changed otherwise, next to carried ones', () => {
    const phone = pool('phone', 25);
    const first = withPools(1, [phone]);
    const tablet = pool('tablet', 10);
    const reissued = { ...pool('phone', 25), poolId: phone.poolId }; // same id, other verifiers: never carried
    const second = withPools(2, [spend(phone, 0), tablet]);
    expect(userStateToJson(second, first)).toMatchObject({
      pools: [{ verifiers: CARRIED_VERIFIERS }, { verifiers: expect.any(Array) }],
    });
    expect(userStateToJson(withPools(2, [reissued]), first)).toMatchObject({
      pools: [{ verifiers: expect.any(Array) }],
    });
    const third = withPools(3, [spend(phone, 1), spend(tablet, 0)]);
    expect(
      read(journal(sealRecord(first, keys), sealRecord(second, keys, first), sealRecord(third, keys, second))).state,
    ).toEqual(third);
  });

  it("carries a pending pool's verifiers into the live pool it becomes", () => {
    const pending = pool('dev_1', 25);
    const envelope = {
      v: 1,
      deliveryId: 'pd_1',
      deviceId: 'dev_1',
      user: USER,
      eph: 'A'.repeat(43),
      nonce: 'A'.repeat(16),
      ciphertext: 'A'.repeat(64),
      signature: 'A'.repeat(86),
    } as const;
    const first = withPools(
      1,
      [],
      [{ deliveryId: 'pd_1', deviceId: 'dev_1', uploaded: true, pool: pending, envelope }],
    );
    const second = withPools(2, [spend(pending, 0)]);
    expect(userStateToJson(second, first)).toMatchObject({ pools: [{ verifiers: CARRIED_VERIFIERS }] });
    expect(read(journal(sealRecord(first, keys), sealRecord(second, keys, first))).state).toEqual(second);
  });

  it('refuses a first record that carries, a carried pool the record before lacks, and one whose limits changed', () => {
    const phone = pool('phone', 25);
    const first = withPools(1, [phone]);
    const second = withPools(2, [spend(phone, 0)]);
    const carrying = sealRecord(second, keys, first);
    expect(() => read(journal(carrying))).toThrow(/carries the verifiers of pool .* but it is the first record/);
    const other = withPools(1, [pool('phone', 25)]);
    expect(() => read(journal(sealRecord(other, keys), carrying))).toThrow(/which the previous record does not hold/);
    const shorter = withPools(1, [{ ...phone, limit: 24, verifiers: phone.verifiers.slice(0, 24) }]);
    expect(() => read(journal(sealRecord(shorter, keys), carrying))).toThrow(/which the previous record does not hold/);
  });

  it('the store appends records of a few hundred bytes on the verify path, whatever the pool size', async () => {
    const store = new UserStateStore(await makeTempDir(), async () => keys);
    let state = withPools(1, [pool('phone', 100)]);
    await store.write(state);
    const file = store.fileFor(USER);
    const sizes = [(await fs.stat(file)).size];
    for (let c = 0; c < 5; c++) {
      await store.read(USER);
      state = { ...state, generation: state.generation + 1, pools: [spend(state.pools[0]!, c)] };
      await store.write(state);
      sizes.push((await fs.stat(file)).size);
    }
    const growth = sizes.slice(1).map((size, i) => size - sizes[i]!);
    expect(Math.max(...growth)).toBeLessThan(1_000);
    expect(await new UserStateStore(store.directory, async () => keys).read(USER)).toEqual(state);
  });
});
