/** The one decision on offline PINs (phone/core/offline-pin-rules.ts), rule by rule. Pure. */
import { describe, expect, it } from 'vitest';
import { decideOfflinePin, offlinePinStatus } from '../../../phone/core/offline-pin-rules.js';
import type { Pairing, StoredPool } from '../../../phone/core/phone-state.js';
import { DAY_MS, DEFAULT_POLICY, type Policy } from '../../../protocol/policy-settings.js';

const NOW = Date.UTC(2026, 10, 28, 12);
const SEED = 'A'.repeat(43);

function pool(over: Partial<StoredPool> = {}): StoredPool {
  return {
    deliveryId: 'pd_1',
    poolId: 'pool_1',
    seed: SEED,
    charset: 'alphanumeric',
    length: 8,
    start: 0,
    count: 25,
    next: 0,
    issuedAt: NOW - DAY_MS,
    receivedAt: NOW - DAY_MS,
    ...over,
  };
}

function pairing(
  settings: Partial<Policy> | null,
  pools: { pool?: StoredPool | null; pendingPool?: StoredPool | null } = {},
): Pairing {
  return {
    workstationId: 'ws_0000000000000000000000000W',
    workstationName: 'build-box',
    user: 'ana',
    deviceId: 'dev_00000000000000000000000000',
    url: 'https://cc',
    workstationKey: SEED,
    ccKey: SEED,
    pairedAt: NOW - 2 * DAY_MS,
    settings: settings === null ? null : { ...DEFAULT_POLICY, ...settings },
    settingsAt: settings === null ? null : NOW,
    pool: pools.pool ?? null,
    pendingPool: pools.pendingPool ?? null,
    lastApprovedAt: null,
  };
}

describe('decideOfflinePin', () => {
  it('R1: Offline Mode off offers nothing, even with PINs held; it is off by default', () => {
    expect(decideOfflinePin(pairing({ offlineMode: false }, { pool: pool() }), NOW)).toEqual({
      ok: false,
      code: 'offline-mode-off',
    });
    expect(decideOfflinePin(pairing({}, { pool: pool() }), NOW)).toEqual({ ok: false, code: 'offline-mode-off' });
    expect(decideOfflinePin(pairing({}), NOW)).toEqual({ ok: false, code: 'offline-mode-off' });
  });

  it('R2, R6: no offline-PIN option before a successful sign-in (no pool), whatever is known of the settings', () => {
    expect(decideOfflinePin(pairing({ offlineMode: true }), NOW)).toEqual({ ok: false, code: 'no-sign-in-yet' });
    expect(decideOfflinePin(pairing(null), NOW)).toEqual({ ok: false, code: 'no-sign-in-yet' });
  });

  it('hands out the next counter of the current pool', () => {
    expect(decideOfflinePin(pairing({ offlineMode: true }, { pool: pool({ next: 3 }) }), NOW)).toEqual({
      ok: true,
      which: 'pool',
      counter: 3,
      remainingAfter: 21,
      lowAfter: false,
    });
  });

  it('R8: warns at and below lowPinWarnPercent × pinCount of the settings, not above', () => {
    // 20 % of 25 = 5: the PIN that leaves 5 warns, the one that leaves 6 does not.
    const settings = { offlineMode: true, pinCount: 25, lowPinWarnPercent: 20 };
    const nextAt = (next: number, rules = settings) => pairing(rules, { pool: pool({ next }) });
    expect(decideOfflinePin(nextAt(18), NOW)).toMatchObject({ ok: true, remainingAfter: 6, lowAfter: false });
    expect(decideOfflinePin(nextAt(19), NOW)).toMatchObject({ ok: true, remainingAfter: 5, lowAfter: true });
    expect(offlinePinStatus(nextAt(20), NOW)).toEqual({ ok: true, remaining: 5, low: true });
    expect(offlinePinStatus(nextAt(19), NOW)).toEqual({ ok: true, remaining: 6, low: false });
    // The threshold follows the settings' pinCount, not the pool's size.
    expect(offlinePinStatus(nextAt(15, { ...settings, pinCount: 50 }), NOW)).toEqual({
      ok: true,
      remaining: 10,
      low: true,
    });
    expect(offlinePinStatus(nextAt(24, { ...settings, lowPinWarnPercent: 0 }), NOW)).toEqual({
      ok: true,
      remaining: 1,
      low: false,
    });
  });

  it('R10: all PINs used is an error', () => {
    expect(decideOfflinePin(pairing({ offlineMode: true }, { pool: pool({ next: 25 }) }), NOW)).toEqual({
      ok: false,
      code: 'pins-exhausted',
    });
    expect(decideOfflinePin(pairing({ offlineMode: true }, { pool: pool({ next: 24 }) }), NOW)).toMatchObject({
      ok: true,
      counter: 24,
      remainingAfter: 0,
    });
  });

  it('a pool older than offlineAccessDays is expired', () => {
    const old = pool({ issuedAt: NOW - 30 * DAY_MS });
    expect(decideOfflinePin(pairing({ offlineMode: true, offlineAccessDays: 30 }, { pool: old }), NOW)).toEqual({
      ok: false,
      code: 'pins-expired',
    });
    expect(decideOfflinePin(pairing({ offlineMode: true, offlineAccessDays: 31 }, { pool: old }), NOW)).toMatchObject({
      ok: true,
    });
  });

  it('falls back to the pending pool when the current one is used up or missing (the agent accepts its PINs as the confirmation)', () => {
    const pending = pool({ deliveryId: 'pd_2', next: 0 });
    expect(
      decideOfflinePin(pairing({ offlineMode: true }, { pool: pool({ next: 25 }), pendingPool: pending }), NOW),
    ).toMatchObject({ ok: true, which: 'pendingPool', counter: 0 });
    expect(decideOfflinePin(pairing({ offlineMode: true }, { pendingPool: pending }), NOW)).toMatchObject({
      ok: true,
      which: 'pendingPool',
    });
    expect(
      decideOfflinePin(pairing({ offlineMode: true }, { pool: pool({ next: 2 }), pendingPool: pending }), NOW),
    ).toMatchObject({ ok: true, which: 'pool', counter: 2 });
  });

  it('a pending pool whose confirmation was sent comes first (the agent may have dropped the old one)', () => {
    const pending = pool({ deliveryId: 'pd_2', confirmTriedAt: NOW - 1000 });
    expect(
      decideOfflinePin(pairing({ offlineMode: true }, { pool: pool({ next: 2 }), pendingPool: pending }), NOW),
    ).toMatchObject({ ok: true, which: 'pendingPool', counter: 0 });
    expect(
      decideOfflinePin(
        pairing({ offlineMode: true }, { pool: pool({ next: 2 }), pendingPool: pool({ ...pending, next: 25 }) }),
        NOW,
      ),
    ).toMatchObject({ ok: true, which: 'pool', counter: 2 });
  });

  it('before any settings were fetched, a held pool stands for Offline Mode on, with its size as pinCount', () => {
    expect(decideOfflinePin(pairing(null, { pool: pool({ count: 10, next: 7 }) }), NOW)).toEqual({
      ok: true,
      which: 'pool',
      counter: 7,
      remainingAfter: 2,
      lowAfter: true,
    });
  });
});
