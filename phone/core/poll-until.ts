/**
 * Long-polls one inbox until a round gives what the caller looks for or `withinMs` passes on the
 * injected clock, whichever is first (R3's five seconds, the wait for a pool after an approval).
 * Pool deliveries met on the way are imported (inbox.ts).
 */
import type { PhoneContext } from './phone-context.js';
import { PhoneError } from './errors.js';
import { inboxRound, type InboxRound } from './inbox.js';
import type { Endpoint } from './pool-import.js';

/** A pause between rounds that came back without what we wait for, so a busy inbox does not spin. */
export const POLL_PAUSE_MS = 250;

export type PollOutcome<T> =
  | { readonly kind: 'found'; readonly value: T }
  | { readonly kind: 'timeout' }
  /** The Control Center did not answer: no internet (R4). */
  | { readonly kind: 'unreachable' }
  /** The Control Center refused or answered nonsense. */
  | { readonly kind: 'failed'; readonly error: PhoneError };

export async function pollUntil<T>(
  ctx: PhoneContext,
  endpoint: Endpoint,
  withinMs: number,
  look: (round: InboxRound) => T | undefined,
): Promise<PollOutcome<T>> {
  const deadline = ctx.clock.now() + withinMs;
  const controller = new AbortController();
  const timeout = ctx.clock.sleep(withinMs, controller.signal).then(
    () => 'timeout' as const,
    () => 'timeout' as const,
  );
  let inFlight: Promise<unknown> = Promise.resolve();
  try {
    for (;;) {
      const left = deadline - ctx.clock.now();
      if (left <= 0) return { kind: 'timeout' };
      const round = inboxRound(ctx, endpoint, left / 1000, controller.signal).then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      );
      inFlight = round;
      const first = await Promise.race([round, timeout]);
      if (first === 'timeout') return { kind: 'timeout' };
      if ('error' in first) {
        if (!(first.error instanceof PhoneError)) throw first.error;
        return first.error.code === 'unreachable' ? { kind: 'unreachable' } : { kind: 'failed', error: first.error };
      }
      const value = look(first.value);
      if (value !== undefined) return { kind: 'found', value };
      const pause = ctx.clock.sleep(POLL_PAUSE_MS, controller.signal).then(
        () => 'paused' as const,
        () => 'paused' as const,
      );
      if ((await Promise.race([pause, timeout])) === 'timeout') return { kind: 'timeout' };
    }
  } finally {
    controller.abort();
    // A round cut short may be importing a pool; let it finish its write before moving on.
    await inFlight;
  }
}
