/** A clock tests move by hand (STYLE.md §9): `sleep` waits for `advance`, never for real time. */
import type { Clock } from '../../../phone/core/ports.js';

interface Timer {
  readonly at: number;
  readonly ms: number;
  readonly resolve: () => void;
}

export class FakeClock implements Clock {
  #now: number;
  #timers = new Set<Timer>();

  constructor(start = Date.UTC(2026, 10, 28, 12)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer: Timer = {
        at: this.#now + ms,
        ms,
        resolve: () => {
          this.#timers.delete(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.#timers.delete(timer);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#timers.add(timer);
    });
  }

  /** Moves time on, firing every timer that falls due, in order. */
  advance(ms: number): void {
    this.#now += ms;
    for (const timer of [...this.#timers].sort((a, b) => a.at - b.at)) if (timer.at <= this.#now) timer.resolve();
  }

  /** Resolves once someone sleeps for exactly `ms` (real time bounded, so a broken flow fails fast). */
  async untilSleeping(ms: number, withinRealMs = 5000): Promise<void> {
    const started = Date.now();
    while (![...this.#timers].some((t) => t.ms === ms)) {
      if (Date.now() - started > withinRealMs)
        throw new Error(`nobody slept for ${ms} ms within ${withinRealMs} ms of real time`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  get pendingTimers(): number {
    return this.#timers.size;
  }
}
