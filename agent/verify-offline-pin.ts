/**
 * The one decision on a typed offline PIN (docs/offline-pins.md "Accepting a PIN"). It returns
 * the decision and the state to make durable before anyone is told; it performs no I/O itself.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { normalizePinInput } from '../protocol/offline-pin.js';
import { wipe } from '../protocol/bytes.js';
import type { Reason } from '../protocol/ipc-messages.js';
import { FRESH_HAMMERING, gate, recordFailure } from './anti-hammering.js';
import type { ClockReading } from './clock.js';
import { computeVerifier } from './kdf.js';
import type { VerifierFunction } from './offline-pin-pool.js';
import { isLow, type Policy } from '../protocol/policy-settings.js';
import { isExpired, pinCountOf, remainingOf, type PoolState, type UserState, type Verifier } from './user-state.js';

export type VerifyDecision =
  | { readonly ok: true; readonly status: 'accepted'; readonly authenticatorId: string; readonly remaining: number; readonly low: boolean }
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
}

export interface VerifyResult {
  readonly decision: VerifyDecision;
  /** The state to write durably before replying; null when nothing changed. */
  readonly nextState: UserState | null;
}

const refuse = (status: 'rejected' | 'locked' | 'unavailable', reason: Reason, retryAfterMs?: number): VerifyResult => ({
  decision: { ok: false, status, reason, ...(retryAfterMs ? { retryAfterSeconds: Math.ceil(retryAfterMs / 1000) } : {}) },
  nextState: null,
});

/** Pools a PIN could still unlock right now. */
export function usablePools(state: UserState, policy: Policy, now: ClockReading, wallFloorMs = 0): PoolState[] {
  const floor = Math.max(state.wallHighWaterMs, wallFloorMs);
  return state.pools.filter((pool) => remainingOf(pool) > 0 && !isExpired(pool, policy.offlineAccessDays, now, floor));
}

/** Why no pool is usable: expired wins only when every pool has expired. */
export function noUsablePoolReason(state: UserState, policy: Policy, now: ClockReading, wallFloorMs = 0): Reason {
  if (state.pools.length === 0) return 'no-pool';
  const floor = Math.max(state.wallHighWaterMs, wallFloorMs);
  return state.pools.every((pool) => isExpired(pool, policy.offlineAccessDays, now, floor)) ? 'pools-expired' : 'pools-exhausted';
}

interface Candidate {
  readonly pool: PoolState;
  readonly verifier: Verifier;
  readonly pin: Uint8Array;
}

/** Each pool's `next` first, then each pool's next+1, … (the phone hands PINs out in order). */
function candidatesFor(pools: readonly PoolState[], typed: Uint8Array): { candidates: Candidate[]; firstRound: number; normalized: Uint8Array[] } {
  const normalized: Uint8Array[] = [];
  const perPool: { pool: PoolState; pin: Uint8Array }[] = [];
  for (const pool of pools) {
    const pin = normalizePinInput(typed, pool.charset);
    if (pin === null) continue;
    normalized.push(pin);
    if (pin.length === pool.length) perPool.push({ pool, pin });
  }
  const candidates: Candidate[] = [];
  const longest = Math.max(0, ...perPool.map(({ pool }) => pool.verifiers.length));
  for (let offset = 0; offset < longest; offset++) {
    for (const { pool, pin } of perPool) {
      const verifier = pool.verifiers[offset];
      if (verifier) candidates.push({ pool, verifier, pin });
    }
  }
  return { candidates, firstRound: perPool.length, normalized };
}

/**
 * The first candidate whose verifier matches. Each pool's `next` is tried first, on its own
 * round, so the common case — the PIN the phone shows next — costs one evaluation; only then
 * do the rest run, one per core.
 */
async function firstMatch(candidates: readonly Candidate[], firstRound: number, verifierOf: VerifierFunction, parallelism: number): Promise<Candidate | null> {
  let found: Candidate | null = null;
  const run = async (slice: readonly Candidate[], workers: number) => {
    let index = 0;
    const worker = async () => {
      while (found === null && index < slice.length) {
        const candidate = slice[index++]!;
        const hash = await verifierOf(candidate.pin, candidate.verifier.salt, candidate.pool.kdf);
        if (hash.length === candidate.verifier.hash.length && timingSafeEqual(hash, candidate.verifier.hash)) found ??= candidate;
        wipe(hash);
      }
    };
    await Promise.all(Array.from({ length: Math.min(workers, slice.length) }, worker));
  };
  await run(candidates.slice(0, firstRound), parallelism);
  if (found === null) await run(candidates.slice(firstRound), parallelism);
  return found;
}

/** The tag of a wrong input (docs/state-files.md): same input, same tag; a different user, a different tag. */
export function wrongInputTag(tagKey: Uint8Array, user: string, typed: Uint8Array): string {
  const canonical = normalizePinInput(typed, 'alphanumeric') ?? typed.slice();
  const tag = createHmac('sha256', tagKey).update(user, 'utf8').update(new Uint8Array([0])).update(canonical).digest();
  wipe(canonical);
  return tag.subarray(0, 16).toString('hex');
}

export async function verifyOfflinePin(input: VerifyInput): Promise<VerifyResult> {
  if (!input.policy.offlineMode) return refuse('unavailable', 'offline-mode-off');
  const state = input.state;
  if (state === null || state.pools.length === 0) return refuse('unavailable', 'no-pool');
  const open = gate(state.hammering, input.now);
  if (!open.open) return open.reason === 'hammering-delay' ? refuse('locked', open.reason, open.retryAfterMs) : refuse('locked', open.reason);
  const pools = usablePools(state, input.policy, input.now, input.wallFloorMs);
  if (pools.length === 0) return refuse('unavailable', noUsablePoolReason(state, input.policy, input.now, input.wallFloorMs));

  const { candidates, firstRound, normalized } = candidatesFor(pools, input.pin);
  let match: Candidate | null;
  try {
    match = await firstMatch(candidates, firstRound, input.verifier ?? computeVerifier, input.parallelism ?? availableParallelism());
  } finally {
    wipe(...normalized);
  }
  const wallHighWaterMs = Math.max(state.wallHighWaterMs, input.now.wallMs);

  if (match !== null) {
    const matched = match;
    const consumed: PoolState = { ...matched.pool, next: matched.verifier.c + 1, verifiers: matched.pool.verifiers.filter((v) => v.c > matched.verifier.c) };
    const remaining = remainingOf(consumed);
    return {
      decision: { ok: true, status: 'accepted', authenticatorId: consumed.authenticatorId, remaining, low: isLow(remaining, pinCountOf(consumed), input.policy) },
      nextState: {
        ...state,
        generation: state.generation + 1,
        wallHighWaterMs,
        pools: state.pools.map((pool) => (pool === matched.pool ? consumed : pool)),
        hammering: FRESH_HAMMERING,
      },
    };
  }

  const failure = recordFailure(state.hammering, wrongInputTag(input.tagKey, input.user, input.pin), input.now);
  const decision: VerifyDecision = failure.disabled
    ? { ok: false, status: 'rejected', reason: 'hammering-disabled' }
    : { ok: false, status: 'rejected', reason: 'wrong-pin', ...(failure.delayMs > 0 ? { retryAfterSeconds: Math.ceil(failure.delayMs / 1000) } : {}) };
  return {
    decision,
    nextState: failure.counted ? { ...state, generation: state.generation + 1, wallHighWaterMs, hammering: failure.state } : null,
  };
}
