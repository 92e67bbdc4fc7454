/**
 * The anti-hammering ladder (docs/state-files.md "Anti-hammering"). Pure: state in, state out.
 * Delays are measured on the boot clock within one boot and on the wall clock across boots,
 * never letting a clock set back shorten them.
 */
import type { ClockReading } from '../../platform/clock.js';

export const MINUTE_MS = 60_000;
/** Delay after the n-th counted failure (index n − 1); failure 10 disables offline PINs. */
export const LADDER_MS: readonly number[] = [
  0,
  0,
  0,
  0,
  MINUTE_MS,
  5 * MINUTE_MS,
  15 * MINUTE_MS,
  15 * MINUTE_MS,
  60 * MINUTE_MS,
];
export const DISABLE_AT_FAILURE = 10;
export const MAX_WRONG_TAGS = 16;

export interface DelayRecord {
  readonly remainingMs: number;
  readonly bootId: string;
  readonly uptimeMs: number;
  readonly wallMs: number;
}

export interface HammeringState {
  readonly failures: number;
  readonly disabled: boolean;
  /** Hex tags of distinct wrong inputs since the last success (oldest first). */
  readonly wrongTags: readonly string[];
  readonly delay: DelayRecord | null;
}

export const FRESH_HAMMERING: HammeringState = Object.freeze({
  failures: 0,
  disabled: false,
  wrongTags: [],
  delay: null,
});

/** Time elapsed since a record was taken, never more than really elapsed (docs/state-files.md). */
export function elapsedSinceMs(record: DelayRecord, now: ClockReading): number {
  if (record.bootId === now.bootId) return Math.max(0, now.uptimeMs - record.uptimeMs);
  return Math.max(0, now.wallMs - record.wallMs);
}

export function delayLeftMs(state: HammeringState, now: ClockReading): number {
  if (state.delay === null) return 0;
  return Math.max(0, state.delay.remainingMs - elapsedSinceMs(state.delay, now));
}

export type AttemptGate =
  | { readonly open: true }
  | { readonly open: false; readonly reason: 'hammering-disabled' }
  | { readonly open: false; readonly reason: 'hammering-delay'; readonly retryAfterMs: number };

/** Whether an attempt may be checked at all right now. */
export function attemptGate(state: HammeringState, now: ClockReading): AttemptGate {
  if (state.disabled) return { open: false, reason: 'hammering-disabled' };
  const left = delayLeftMs(state, now);
  if (left > 0) return { open: false, reason: 'hammering-delay', retryAfterMs: left };
  return { open: true };
}

export interface FailureOutcome {
  readonly state: HammeringState;
  /** False when the same wrong input was seen before: it counts once. */
  readonly counted: boolean;
  /** The delay this failure started (0 for none). */
  readonly delayMs: number;
  readonly disabled: boolean;
}

/** Records a wrong input identified by `tag` (docs/state-files.md: the same wrong PIN counts once). */
export function recordFailure(state: HammeringState, tag: string, now: ClockReading): FailureOutcome {
  if (state.wrongTags.includes(tag)) return { state, counted: false, delayMs: 0, disabled: state.disabled };
  const failures = state.failures + 1;
  const wrongTags = [...state.wrongTags, tag].slice(-MAX_WRONG_TAGS);
  const disabled = failures >= DISABLE_AT_FAILURE;
  const delayMs = disabled ? 0 : (LADDER_MS[failures - 1] ?? 0);
  const delay: DelayRecord | null =
    delayMs > 0 ? { remainingMs: delayMs, bootId: now.bootId, uptimeMs: now.uptimeMs, wallMs: now.wallMs } : null;
  return { state: { failures, disabled, wrongTags, delay }, counted: true, delayMs, disabled };
}
