/**
 * Fixed one-minute windows per key (docs/control-center.md "Limits and rate limits"), in
 * memory. A refused hit answers how many seconds remain, for Retry-After.
 */
import { CcError } from '../errors.js';

export interface RateLimits {
  readonly enrollPerMinute: number;
  readonly redeemPerMinute: number;
  readonly failuresPerMinute: number;
  readonly perKeyPerMinute: number;
}

export const DEFAULT_RATE_LIMITS: RateLimits = Object.freeze({
  enrollPerMinute: 10,
  redeemPerMinute: 10,
  failuresPerMinute: 30,
  perKeyPerMinute: 600,
});

const WINDOW_MS = 60_000;
/** Beyond this many keys, finished windows are swept, then the oldest entries go. */
const MAX_KEYS = 100_000;

export class RateLimiter {
  readonly #windows = new Map<string, { start: number; count: number }>();

  constructor(
    readonly limit: number,
    readonly what: string,
    private readonly now: () => number,
  ) {}

  /** Counts one hit for `key`; throws `rate-limited` past the limit. */
  hit(key: string): void {
    const refusal = this.spend(key);
    if (refusal) throw refusal.error;
  }

  /**
   * Counts one hit for `key`; past the limit, the `rate-limited` error to answer with, and
   * whether this is the first hit refused in the window (to be logged once, not per request).
   */
  spend(key: string): { error: CcError; first: boolean } | null {
    const now = this.now();
    let window = this.#windows.get(key);
    if (!window || now - window.start >= WINDOW_MS) {
      this.#windows.delete(key);
      window = { start: now, count: 0 };
      this.#windows.set(key, window);
      if (this.#windows.size > MAX_KEYS) this.#sweep(now);
    }
    window.count += 1;
    if (window.count <= this.limit) return null;
    return { error: this.#refusal(window, now), first: window.count === this.limit + 1 };
  }

  /** Throws `rate-limited` when `key` is already at the limit, without counting. */
  check(key: string): void {
    const now = this.now();
    const window = this.#windows.get(key);
    if (window && now - window.start < WINDOW_MS && window.count >= this.limit) throw this.#refusal(window, now);
  }

  #refusal(window: { start: number }, now: number): CcError {
    const seconds = Math.max(1, Math.ceil((window.start + WINDOW_MS - now) / 1000));
    return new CcError(
      'rate-limited',
      `Too many ${this.what} from here (at most ${this.limit} a minute); try again in ${seconds} s.`,
      seconds,
    );
  }

  #sweep(now: number): void {
    for (const [key, window] of this.#windows) if (now - window.start >= WINDOW_MS) this.#windows.delete(key);
    for (const key of this.#windows.keys()) {
      if (this.#windows.size <= MAX_KEYS) break;
      this.#windows.delete(key);
    }
  }
}

export interface Limiters {
  readonly enroll: RateLimiter;
  readonly redeem: RateLimiter;
  readonly failures: RateLimiter;
  readonly perKey: RateLimiter;
}

export function makeLimiters(limits: RateLimits, now: () => number): Limiters {
  return {
    enroll: new RateLimiter(limits.enrollPerMinute, 'enrollments', now),
    redeem: new RateLimiter(limits.redeemPerMinute, 'pairing redemptions', now),
    failures: new RateLimiter(limits.failuresPerMinute, 'failed authentications', now),
    perKey: new RateLimiter(limits.perKeyPerMinute, 'requests for this key', now),
  };
}
