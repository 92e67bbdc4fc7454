/**
 * The one decision on whether the phone offers an offline PIN for a pairing, and which
 * (docs/phone.md "The rules here"). Pure: the pairing as stored and the time in, a
 * discriminated union out. Showing the PIN is `takeOfflinePin` (offline-pin-take.ts).
 */
import { DAY_MS, DEFAULT_POLICY, isLow, type Policy } from '../../protocol/policy-settings.js';
import { remainingIn, type Pairing, type StoredPool } from './phone-state.js';

export type NoOfflinePinCode =
  /** R1: Offline Mode is off for this workstation. */
  | 'offline-mode-off'
  /** R2, R6: no successful online sign-in there yet, so no pool. */
  | 'no-sign-in-yet'
  /** The pool is older than offlineAccessDays. */
  | 'pins-expired'
  /** R10: every PIN of the pool has been shown. */
  | 'pins-exhausted';

export type OfflinePinDecision =
  | {
      readonly ok: true;
      readonly which: 'pool' | 'pendingPool';
      /** The counter of the PIN to show next. */
      readonly counter: number;
      /** PINs left after this one is shown. */
      readonly remainingAfter: number;
      /** R8: the warning applies once this PIN is shown. */
      readonly lowAfter: boolean;
    }
  | { readonly ok: false; readonly code: NoOfflinePinCode };

/**
 * The settings R1 and R8 go by: the last ones fetched; before any were fetched a held pool
 * stands for Offline Mode on (the agent issues pools only under it, and enforces R1 itself).
 */
export function effectiveSettings(pairing: Pairing): Policy {
  if (pairing.settings) return pairing.settings;
  const pool = pairing.pool ?? pairing.pendingPool;
  return pool ? { ...DEFAULT_POLICY, offlineMode: true, pinCount: pool.count } : DEFAULT_POLICY;
}

function expired(pool: StoredPool, settings: Policy, nowMs: number): boolean {
  return nowMs >= pool.issuedAt + settings.offlineAccessDays * DAY_MS;
}

function usable(pool: StoredPool | null, settings: Policy, nowMs: number): pool is StoredPool {
  return pool !== null && remainingIn(pool) > 0 && !expired(pool, settings, nowMs);
}

export function decideOfflinePin(pairing: Pairing, nowMs: number): OfflinePinDecision {
  // Settings not fetched yet and no pool: what the person can act on is the first sign-in.
  if (pairing.settings === null && pairing.pool === null && pairing.pendingPool === null)
    return { ok: false, code: 'no-sign-in-yet' };
  const settings = effectiveSettings(pairing);
  if (!settings.offlineMode) return { ok: false, code: 'offline-mode-off' };
  const held = pairing.pool ?? pairing.pendingPool;
  if (held === null) return { ok: false, code: 'no-sign-in-yet' };
  // A pending pool whose confirmation was sent comes first: if it got through, the agent may have
  // dropped the old pool; the pending one it accepts either way (docs/phone.md "Pools").
  const pendingFirst =
    pairing.pendingPool?.confirmTriedAt !== undefined && usable(pairing.pendingPool, settings, nowMs);
  const which = pendingFirst
    ? 'pendingPool'
    : usable(pairing.pool, settings, nowMs)
      ? 'pool'
      : usable(pairing.pendingPool, settings, nowMs)
        ? 'pendingPool'
        : null;
  if (which === null) {
    // Report what the person can act on: an unexpired but used-up pool is "all used" (R10).
    const current = pairing.pool ?? pairing.pendingPool!;
    return { ok: false, code: expired(current, settings, nowMs) ? 'pins-expired' : 'pins-exhausted' };
  }
  const pool = pairing[which]!;
  const remainingAfter = remainingIn(pool) - 1;
  return {
    ok: true,
    which,
    counter: pool.next,
    remainingAfter,
    lowAfter: isLow(remainingAfter, settings.pinCount, settings),
  };
}

/** What a workstation's tile says about offline PINs on the main screen. */
export type OfflinePinStatus =
  | { readonly ok: true; readonly remaining: number; readonly low: boolean }
  | { readonly ok: false; readonly code: NoOfflinePinCode };

export function offlinePinStatus(pairing: Pairing, nowMs: number): OfflinePinStatus {
  const decision = decideOfflinePin(pairing, nowMs);
  if (!decision.ok) return decision;
  const settings = effectiveSettings(pairing);
  const remaining = decision.remainingAfter + 1;
  return { ok: true, remaining, low: isLow(remaining, settings.pinCount, settings) };
}
