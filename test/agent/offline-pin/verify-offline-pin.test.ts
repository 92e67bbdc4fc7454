import { describe, expect, it } from 'vitest';
import { FRESH_HAMMERING } from '../../../agent/offline-pin/anti-hammering.js';
import { ManualClock } from '../../../platform/clock.js';
import { issuePool } from '../../../agent/offline-pin/offline-pin-pool.js';
import { DEFAULT_POLICY, type Policy } from '../../../protocol/policy-settings.js';
import { emptyUserState, type UserState } from '../../../agent/state/user-state.js';
import { verifyOfflinePin, wrongInputTag } from '../../../agent/offline-pin/verify-offline-pin.js';
import { utf8 } from '../../../protocol/bytes.js';
import type { PinFormat } from '../../../protocol/offline-pin.js';
import { Phone } from '../../helpers/agent-harness.js';

const KDF = { algorithm: 'argon2id', version: 19, memoryKiB: 8, iterations: 1, parallelism: 1 } as const;
const policy: Policy = { ...DEFAULT_POLICY, offlineMode: true, pinCount: 10 };
const tagKey = new Uint8Array(32).fill(7);

async function enrolled(
  clock: ManualClock,
  user = 'alice',
  authenticatorId = 'phone',
  format: PinFormat = { charset: 'alphanumeric', length: 8 },
) {
  const { pool, importUri } = await issuePool({
    user,
    host: 'ws',
    authenticatorId,
    format,
    pinCount: policy.pinCount,
    kdf: KDF,
    now: clock.now(),
  });
  const state: UserState = {
    ...emptyUserState(user),
    generation: 1,
    wallHighWaterMs: clock.now().wallMs,
    pools: [pool],
    hammering: FRESH_HAMMERING,
  };
  return { state, phone: new Phone(importUri) };
}

async function verify(state: UserState | null, pin: string, clock: ManualClock, overrides: Partial<Policy> = {}) {
  return verifyOfflinePin({
    user: state?.user ?? 'alice',
    state,
    policy: { ...policy, ...overrides },
    pin: utf8(pin),
    now: clock.now(),
    tagKey,
  });
}

describe('verifyOfflinePin (docs/offline-pins.md "Accepting a PIN")', () => {
  it('accepts the next PIN, then refuses its replay', async () => {
    const clock = new ManualClock();
    const { state, phone } = await enrolled(clock);
    const first = await verify(state, phone.pin(0), clock);
    expect(first.decision).toEqual({
      ok: true,
      status: 'accepted',
      authenticatorId: 'phone',
      remaining: 9,
      low: false,
    });
    expect(first.nextState!.pools[0]!.next).toBe(1);
    expect(first.nextState!.pools[0]!.verifiers.map((v) => v.c)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const replay = await verify(first.nextState, phone.pin(0), clock);
    expect(replay.decision).toMatchObject({ ok: false, status: 'rejected', reason: 'wrong-pin' });
  });

  it('accepts a later PIN and kills the skipped ones', async () => {
    const clock = new ManualClock();
    const { state, phone } = await enrolled(clock);
    const later = await verify(state, phone.pin(4), clock);
    expect(later.decision).toMatchObject({ ok: true, remaining: 5 });
    for (const skipped of [1, 2, 3])
      expect((await verify(later.nextState, phone.pin(skipped), clock)).decision).toMatchObject({
        ok: false,
        reason: 'wrong-pin',
      });
    expect((await verify(later.nextState, phone.pin(5), clock)).decision).toMatchObject({ ok: true, remaining: 4 });
  });

  it('accepts typed variants: lower case, spaces, hyphens, I/L/O look-alikes', async () => {
    const clock = new ManualClock();
    const { state, phone } = await enrolled(clock);
    const typed = ` ${phone.pin(0).toLowerCase().replace('-', ' ').replaceAll('1', 'l').replaceAll('0', 'o')} `;
    expect((await verify(state, typed, clock)).decision.ok).toBe(true);
  });

  it('warns when low and says so on the last PIN, then refuses with pools-exhausted', async () => {
    const clock = new ManualClock();
    let { state, phone } = await enrolled(clock);
    const lows: boolean[] = [];
    for (let c = 0; c < 10; c++) {
      const result = await verify(state, phone.pin(c), clock);
      expect(result.decision.ok).toBe(true);
      lows.push(result.decision.ok && result.decision.low);
      state = result.nextState!;
    }
    expect(lows).toEqual([false, false, false, false, false, false, false, true, true, true]); // ≤ 20 % of 10 left
    expect((await verify(state, phone.pin(9), clock)).decision).toMatchObject({
      ok: false,
      status: 'unavailable',
      reason: 'pools-exhausted',
    });
  });

  it('expires a pool after offlineAccessDays, and a clock set back does not revive it', async () => {
    const clock = new ManualClock();
    const { state, phone } = await enrolled(clock);
    clock.advance(30 * 86_400_000 - 1);
    expect((await verify(state, phone.pin(0), clock)).decision.ok).toBe(true);
    clock.advance(1);
    expect((await verify(state, phone.pin(0), clock)).decision).toMatchObject({
      ok: false,
      status: 'unavailable',
      reason: 'pools-expired',
    });
    clock.setWall(clock.now().wallMs - 20 * 86_400_000);
    expect((await verify(state, phone.pin(0), clock)).decision).toMatchObject({ reason: 'pools-expired' });
    expect((await verify(state, phone.pin(0), clock, { offlineAccessDays: 90 })).decision.ok).toBe(true); // the admin extends it
  });

  it("after a reboot with the clock set back, the agent's wall-clock floor keeps an expired pool expired", async () => {
    const clock = new ManualClock();
    const { state, phone } = await enrolled(clock);
    clock.advance(31 * 86_400_000);
    const floor = clock.now().wallMs; // the agent saw this time before the reboot
    clock.reboot();
    clock.setWall(clock.now().wallMs - 10 * 86_400_000);
    const pin = utf8(phone.pin(0));
    expect((await verifyOfflinePin({ user: 'alice', state, policy, pin, now: clock.now(), tagKey })).decision.ok).toBe(
      true,
    ); // without a floor: revived
    expect(
      (await verifyOfflinePin({ user: 'alice', state, policy, pin, now: clock.now(), tagKey, wallFloorMs: floor }))
        .decision,
    ).toMatchObject({ reason: 'pools-expired' });
  });

  it('refuses everything with offline mode off (R1) and with no pool', async () => {
    const clock = new ManualClock();
    const { state, phone } = await enrolled(clock);
    expect((await verify(state, phone.pin(0), clock, { offlineMode: false })).decision).toMatchObject({
      status: 'unavailable',
      reason: 'offline-mode-off',
    });
    expect((await verify(null, phone.pin(0), clock)).decision).toMatchObject({
      status: 'unavailable',
      reason: 'no-pool',
    });
  });

  it("keeps pools of one user apart and tries each pool's next PIN first", async () => {
    const clock = new ManualClock();
    const a = await enrolled(clock, 'alice', 'phone');
    const b = await enrolled(clock, 'alice', 'tablet', { charset: 'numeric', length: 6 });
    const state: UserState = { ...a.state, pools: [a.state.pools[0]!, b.state.pools[0]!] };
    const viaTablet = await verify(state, b.phone.pin(2), clock);
    expect(viaTablet.decision).toMatchObject({ ok: true, authenticatorId: 'tablet', remaining: 7 });
    expect(viaTablet.nextState!.pools[0]!.next).toBe(0); // the phone's pool is untouched
    expect((await verify(viaTablet.nextState, a.phone.pin(0), clock)).decision).toMatchObject({
      ok: true,
      authenticatorId: 'phone',
    });
  });

  it('counts an identical wrong PIN once, however it is typed', async () => {
    const clock = new ManualClock();
    let { state } = await enrolled(clock);
    for (const typed of ['ABCD-EFGH', 'abcd efgh', 'ABCDEFGH', 'abcd-efgh']) {
      const result = await verify(state, typed, clock);
      expect(result.decision).toMatchObject({ status: 'rejected', reason: 'wrong-pin' });
      if (result.nextState) state = result.nextState;
    }
    expect(state.hammering.failures).toBe(1);
    expect(wrongInputTag(tagKey, 'alice', utf8('abcd efgh'))).toBe(wrongInputTag(tagKey, 'alice', utf8('ABCD-EFGH')));
    expect(wrongInputTag(tagKey, 'bob', utf8('ABCDEFGH'))).not.toBe(wrongInputTag(tagKey, 'alice', utf8('ABCDEFGH')));
  });

  it('refuses without checking while a delay runs, and a success resets the count', async () => {
    const clock = new ManualClock();
    let { state, phone } = await enrolled(clock);
    for (let n = 1; n <= 5; n++) state = (await verify(state, `WRNG${n}AAA`, clock)).nextState!;
    let checked = 0;
    const counting = {
      verifier: async (...args: Parameters<typeof import('../../../agent/offline-pin/kdf.js').computeVerifier>) => {
        checked++;
        return (await import('../../../agent/offline-pin/kdf.js')).computeVerifier(...args);
      },
    };
    const during = await verifyOfflinePin({
      user: 'alice',
      state,
      policy,
      pin: utf8(phone.pin(0)),
      now: clock.now(),
      tagKey,
      ...counting,
    });
    expect(during.decision).toEqual({ ok: false, status: 'locked', reason: 'hammering-delay', retryAfterSeconds: 60 });
    expect(checked).toBe(0);
    expect(during.nextState).toBeNull();
    clock.advance(60_000);
    const after = await verify(state, phone.pin(0), clock);
    expect(after.decision.ok).toBe(true);
    expect(after.nextState!.hammering).toEqual(FRESH_HAMMERING);
  });
});

describe('pending pools and the recovery PIN (docs/online-protocol.md)', () => {
  it('a PIN from a pending pool is accepted and makes that pool live in place of the old one', async () => {
    const clock = new ManualClock();
    const old = await enrolled(clock, 'alice', 'dev_A');
    const fresh = await enrolled(clock, 'alice', 'dev_A');
    const envelope = {
      v: 1,
      deliveryId: 'pd_x',
      deviceId: 'dev_A',
      user: 'alice',
      eph: 'a'.repeat(43),
      nonce: 'n'.repeat(16),
      ciphertext: 'c',
      signature: 's'.repeat(86),
    } as const;
    const state: UserState = {
      ...old.state,
      pendingPools: [{ deliveryId: 'pd_x', deviceId: 'dev_A', uploaded: true, pool: fresh.state.pools[0]!, envelope }],
    };
    expect((await verify(state, old.phone.pin(0), clock)).decision).toMatchObject({ ok: true, remaining: 9 }); // the old pool still works
    const switched = await verify(state, fresh.phone.pin(0), clock);
    expect(switched.decision).toMatchObject({
      ok: true,
      authenticatorId: 'dev_A',
      remaining: 9,
      confirmedDeliveryId: 'pd_x',
    });
    expect(switched.nextState!.pendingPools).toEqual([]);
    expect(switched.nextState!.pools).toHaveLength(1);
    expect((await verify(switched.nextState, old.phone.pin(1), clock)).decision).toMatchObject({
      ok: false,
      reason: 'wrong-pin',
    }); // the old pool is gone
  });

  it('a recovery PIN works once, only while the policy allows it, even with Offline Mode off', async () => {
    const clock = new ManualClock();
    const { state } = await enrolled(clock);
    const salt = new Uint8Array(16).fill(4);
    const pin = utf8('ABCD1234EFGH');
    const { computeVerifier } = await import('../../../agent/offline-pin/kdf.js');
    const recovery = { salt, hash: await computeVerifier(pin, salt, KDF), kdf: KDF, createdAtMs: 0, uploaded: true };
    const withRecovery: UserState = { ...state, recovery };
    expect((await verify(withRecovery, 'ABCD-1234-EFGH', clock, { recoveryPin: false })).decision).toMatchObject({
      ok: false,
      reason: 'wrong-pin',
    });
    const used = await verify(withRecovery, 'abcd 1234 efgh', clock, { recoveryPin: true, offlineMode: false });
    expect(used.decision).toMatchObject({ ok: true, authenticatorId: 'recovery', recovery: true });
    expect(used.nextState!.recovery).toBeNull();
    expect(
      (await verify(used.nextState, 'ABCD-1234-EFGH', clock, { recoveryPin: true, offlineMode: false })).decision,
    ).toMatchObject({ ok: false, reason: 'offline-mode-off' });
  });
});
