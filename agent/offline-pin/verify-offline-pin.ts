/**
 * The one decision on a typed offline PIN (docs/offline-pins.md "Accepting a PIN"). It returns
 * the decision and the state to make durable before anyone is told; it performs no I/O itself.
 */
import { toHex, utf8 } from '../../protocol/bytes.js';
import { hmacSha256 } from '../../protocol/crypto/hashes.js';
import type { Reason } from '../../protocol/ipc-messages.js';
import { isLow, type Policy } from '../../protocol/policy-settings.js';
import { FRESH_HAMMERING, attemptGate, recordFailure } from './anti-hammering.js';
import type { ClockReading } from '../../platform/clock.js';
import { KDF_PARALLELISM, computeVerifier } from './kdf.js';
import type { VerifierFunction } from './offline-pin-pool.js';
import { candidatesFor, firstMatch, type Candidate, type Source } from './pin-candidates.js';
import { TypedPin } from './typed-pin.js';
import { isExpired, pinCountOf, remainingOf, type PoolState, type UserState } from '../state/user-state.js';
import { withLiveCopies } from '../state/windows-credential.js';

export type VerifyDecision =
  | {
      readonly ok: true;
      readonly status: 'accepted';
      /** The device or authenticator whose PIN it was; `recovery` for the recovery PIN. */
      readonly authenticatorId: string;
      readonly remaining: number;
      readonly low: boolean;
      /** Set when the PIN came from a pending pool, which it thereby confirmed. */
      readonly confirmedDeliveryId?: string;
      readonly recovery?: true;
    }
  | {
      readonly ok: false;
      readonly status: 'rejected' | 'locked' | 'unavailable';
      readonly reason: Reason;
      readonly retryAfterSeconds?: number;
    };

export interface VerifyInput {
  readonly user: string;
  /** The user's state, or null when they have none. */
  readonly state: UserState | null;
  readonly policy: Policy;
  /** What was typed (raw); not modified. */
  readonly pin: Uint8Array;
  readonly now: ClockReading;
  /** The agent's wall-clock floor (wall-clock-floor.ts); pool expiry never uses an earlier time. */
  readonly wallFloorMs?: number;
  /** K_tag (docs/state-files.md) for the identical-wrong-PIN rule. */
  readonly tagKey: Uint8Array;
  readonly verifier?: VerifierFunction;
  readonly parallelism?: number;
  /** Return seed_c of an accepted PIN from an `argon2id-hkdf-v1` pool (docs/windows.md §6.2), to open its copy of the password. */
  readonly wantCredentialSeed?: boolean;
}

/** The accepted PIN's place and seed_c: the private key its copy of the password is wrapped to. The caller wipes `seed`. */
export interface AcceptedPinKey {
  readonly poolId: string;
  readonly c: number;
  readonly seed: Uint8Array;
}

export interface VerifyResult {
  readonly decision: VerifyDecision;
  /** The state to write durably before replying; null when nothing changed. */
  readonly nextState: UserState | null;
  /** Only with `wantCredentialSeed`, for a PIN accepted from an `argon2id-hkdf-v1` pool. */
  readonly pinKey?: AcceptedPinKey;
}

const refuse = (
  status: 'rejected' | 'locked' | 'unavailable',
  reason: Reason,
  retryAfterMs?: number,
): VerifyResult => ({
  decision: {
    ok: false,
    status,
    reason,
    ...(retryAfterMs ? { retryAfterSeconds: Math.ceil(retryAfterMs / 1000) } : {}),
  },
  nextState: null,
});

function usable(pool: PoolState, policy: Policy, now: ClockReading, floor: number): boolean {
  return remainingOf(pool) > 0 && !isExpired(pool, policy.offlineAccessDays, now, floor);
}

/**
 * The pools a typed PIN could unlock right now, one per phone, as a lock screen counts them
 * (docs/ipc.md status): a phone's pending pool when it has a usable one — the phone shows it
 * once it has imported it, and its first PIN confirms it (usableSources accepts it already) —
 * else its live pool.
 */
export function usablePools(state: UserState, policy: Policy, now: ClockReading, wallFloorMs = 0): PoolState[] {
  const floor = Math.max(state.wallHighWaterMs, wallFloorMs);
  const pending = state.pendingPools
    .map((candidate) => candidate.pool)
    .filter((pool) => usable(pool, policy, now, floor));
  const replaced = new Set(pending.map((pool) => pool.authenticatorId));
  return [
    ...state.pools.filter((pool) => usable(pool, policy, now, floor) && !replaced.has(pool.authenticatorId)),
    ...pending,
  ];
}

/** Every source a typed PIN is checked against right now (pin-candidates.ts). */
export function usableSources(state: UserState, policy: Policy, now: ClockReading, wallFloorMs = 0): Source[] {
  const floor = Math.max(state.wallHighWaterMs, wallFloorMs);
  const sources: Source[] = [];
  if (policy.offlineMode) {
    for (const pool of state.pools) if (usable(pool, policy, now, floor)) sources.push({ kind: 'pool', pool });
    for (const pending of state.pendingPools)
      if (usable(pending.pool, policy, now, floor)) sources.push({ kind: 'pending', pending });
  }
  if (policy.recoveryPin && state.recovery) sources.push({ kind: 'recovery', recovery: state.recovery });
  return sources;
}

/** Why no pool is usable: expired wins only when every pool has expired. */
export function noUsablePoolReason(state: UserState, policy: Policy, now: ClockReading, wallFloorMs = 0): Reason {
  const all = [...state.pools, ...state.pendingPools.map((pending) => pending.pool)];
  if (all.length === 0) return 'no-pool';
  const floor = Math.max(state.wallHighWaterMs, wallFloorMs);
  return all.every((pool) => isExpired(pool, policy.offlineAccessDays, now, floor))
    ? 'pools-expired'
    : 'pools-exhausted';
}

/** The tag of a wrong input (docs/state-files.md): same input, same tag; a different user, a different tag. */
export function wrongInputTag(tagKey: Uint8Array, user: string, typed: Uint8Array | TypedPin): string {
  const pin = typed instanceof TypedPin ? typed : new TypedPin(typed);
  try {
    return toHex(hmacSha256(tagKey, utf8(user), new Uint8Array([0]), pin.canonical()).subarray(0, 16));
  } finally {
    if (pin !== typed) pin.wipe();
  }
}

function poolOfSource(source: Source): PoolState | null {
  return source.kind === 'pool' ? source.pool : source.kind === 'pending' ? source.pending.pool : null;
}

/** The state after `match` was accepted: counters advanced, a pending pool made live, a recovery PIN spent. */
function accept(state: UserState, match: Candidate, policy: Policy, wallHighWaterMs: number): VerifyResult {
  const base = { ...state, generation: state.generation + 1, wallHighWaterMs, hammering: FRESH_HAMMERING };
  const consume = (pool: PoolState): PoolState => ({
    ...pool,
    next: match.counter + 1,
    verifiers: pool.verifiers.filter((v) => v.c > match.counter),
  });
  const source = match.source;
  if (source.kind === 'recovery') {
    const remaining = state.pools.reduce((sum, pool) => sum + remainingOf(pool), 0);
    return {
      decision: { ok: true, status: 'accepted', authenticatorId: 'recovery', remaining, low: false, recovery: true },
      nextState: { ...base, recovery: null },
    };
  }
  let consumed: PoolState;
  let nextState: UserState;
  if (source.kind === 'pool') {
    consumed = consume(source.pool);
    nextState = { ...base, pools: state.pools.map((pool) => (pool === source.pool ? consumed : pool)) };
  } else {
    consumed = consume(source.pending.pool);
    nextState = {
      ...base,
      pools: [...state.pools.filter((pool) => pool.authenticatorId !== consumed.authenticatorId), consumed],
      pendingPools: state.pendingPools.filter((pending) => pending !== source.pending),
    };
  }
  const remaining = remainingOf(consumed);
  // The accepted PIN's copy of the Windows password (and those of the PINs it skipped) leave with it.
  nextState = withLiveCopies(nextState);
  return {
    decision: {
      ok: true,
      status: 'accepted',
      authenticatorId: consumed.authenticatorId,
      remaining,
      low: isLow(remaining, pinCountOf(consumed), policy),
      ...(source.kind === 'pending' ? { confirmedDeliveryId: source.pending.deliveryId } : {}),
    },
    nextState,
  };
}

export async function verifyOfflinePin(input: VerifyInput): Promise<VerifyResult> {
  const { policy, state } = input;
  const recoveryPossible = policy.recoveryPin && state?.recovery;
  if (!policy.offlineMode && !recoveryPossible) return refuse('unavailable', 'offline-mode-off');
  if (state === null) return refuse('unavailable', 'no-pool');
  const open = attemptGate(state.hammering, input.now);
  if (!open.open)
    return open.reason === 'hammering-delay'
      ? refuse('locked', open.reason, open.retryAfterMs)
      : refuse('locked', open.reason);
  const sources = usableSources(state, policy, input.now, input.wallFloorMs);
  if (sources.length === 0)
    return refuse(
      'unavailable',
      policy.offlineMode ? noUsablePoolReason(state, policy, input.now, input.wallFloorMs) : 'offline-mode-off',
    );

  // Normalised once per charset, for every candidate and the wrong-PIN tag alike; wiped once decided.
  const typed = new TypedPin(input.pin);
  try {
    const match = await firstMatch(
      candidatesFor(sources, typed),
      input.verifier ?? computeVerifier,
      input.parallelism ?? KDF_PARALLELISM,
      input.wantCredentialSeed === true,
    );
    const wallHighWaterMs = Math.max(state.wallHighWaterMs, input.now.wallMs);
    if (match !== null) {
      const accepted = accept(state, match.candidate, policy, wallHighWaterMs);
      const pool = poolOfSource(match.candidate.source);
      if (match.credentialSeed === null || pool === null) return accepted;
      return { ...accepted, pinKey: { poolId: pool.poolId, c: match.candidate.counter, seed: match.credentialSeed } };
    }
    return refuseWrongPin(state, wrongInputTag(input.tagKey, input.user, typed), input.now, wallHighWaterMs);
  } finally {
    typed.wipe();
  }
}

/** A counted (or repeated) wrong input: the ladder's next step (anti-hammering.ts). */
function refuseWrongPin(state: UserState, tag: string, now: ClockReading, wallHighWaterMs: number): VerifyResult {
  const failure = recordFailure(state.hammering, tag, now);
  const decision: VerifyDecision = failure.disabled
    ? { ok: false, status: 'rejected', reason: 'hammering-disabled' }
    : {
        ok: false,
        status: 'rejected',
        reason: 'wrong-pin',
        ...(failure.delayMs > 0 ? { retryAfterSeconds: Math.ceil(failure.delayMs / 1000) } : {}),
      };
  return {
    decision,
    nextState: failure.counted
      ? { ...state, generation: state.generation + 1, wallHighWaterMs, hammering: failure.state }
      : null,
  };
}
