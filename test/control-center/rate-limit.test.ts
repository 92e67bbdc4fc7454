// Fixed one-minute windows (control-center/http/rate-limit.ts): the limit, Retry-After, the
// window rolling over, keys counted apart, and check() counting nothing.
import { describe, expect, it } from 'vitest';
import { CcError } from '../../control-center/errors.js';
import { RateLimiter } from '../../control-center/http/rate-limit.js';

function refusal(fn: () => void): CcError {
  try {
    fn();
  } catch (error) {
    if (error instanceof CcError) return error;
    throw error;
  }
  throw new Error('not refused');
}

describe('RateLimiter', () => {
  it('allows the limit, refuses the next with the seconds left, and starts over after a minute', () => {
    let now = 1_000_000;
    const limiter = new RateLimiter(3, 'tries', () => now);
    for (let i = 0; i < 3; i++) limiter.hit('10.0.0.1');
    now += 20_000;
    const refused = refusal(() => limiter.hit('10.0.0.1'));
    expect(refused.code).toBe('rate-limited');
    expect(refused.status).toBe(429);
    expect(refused.retryAfterSeconds).toBe(40);
    expect(refused.message).toMatch(/at most 3 a minute/);
    limiter.hit('10.0.0.2'); // another key has its own budget
    now += 40_000;
    limiter.hit('10.0.0.1');
  });

  it('check() refuses at the limit without counting', () => {
    const limiter = new RateLimiter(2, 'failures', () => 0);
    limiter.check('a');
    limiter.check('a');
    limiter.hit('a');
    limiter.check('a');
    limiter.hit('a');
    expect(refusal(() => limiter.check('a')).code).toBe('rate-limited');
  });
});
