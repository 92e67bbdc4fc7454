/** agent/ipc-limits.ts (docs/ipc.md "Limits per account"): who gets a connection, who waits. Pure. */
import { describe, expect, it } from 'vitest';
import { ConnectionBudget, RequestRateLimiter, type IpcLimits } from '../../agent/ipc-limits.js';
import type { TrackedConnection } from '../../agent/ipc-limits.js';

const LIMITS: IpcLimits = {
  connectionsPerAccount: 3,
  connectionsPerPool: 6,
  reservedForNewAccounts: 2,
  requestsPerSecond: 10,
  requestBurst: 4,
};

let clock = 0;
function connection(
  account: number,
  options: { busy?: boolean; privileged?: boolean } = {},
): TrackedConnection & { evicted: boolean } {
  const tracked = {
    account,
    privileged: options.privileged ?? account === 0,
    busy: options.busy ?? false,
    lastActiveMs: clock++,
    evicted: false,
    evict: () => (tracked.evicted = true),
  };
  return tracked;
}

function fill(budget: ConnectionBudget, account: number, count: number, busy = false) {
  return Array.from({ length: count }, () => {
    const tracked = connection(account, { busy });
    expect(budget.admit(tracked)).toMatchObject({ ok: true, evicted: [] });
    return tracked;
  });
}

describe('ConnectionBudget', () => {
  it('an account at its limit loses its own longest idle connection to a new one', () => {
    const budget = new ConnectionBudget(LIMITS);
    const [first, second] = fill(budget, 1000, 3);
    second!.lastActiveMs = -1; // idle the longest
    const admitted = budget.admit(connection(1000));
    expect(admitted).toEqual({ ok: true, evicted: [second] });
    expect(first!.evicted).toBe(false);
    expect(budget.size).toBe(3);
  });

  it('an account whose connections are all busy is refused, and nobody else is touched', () => {
    const budget = new ConnectionBudget(LIMITS);
    const others = fill(budget, 2000, 2);
    fill(budget, 1000, 3, true);
    expect(budget.admit(connection(1000))).toEqual({ ok: false });
    expect(others.every((other) => !other.evicted)).toBe(true);
  });

  it('a full pool makes room from the account holding the most, never from a lighter one', () => {
    const budget = new ConnectionBudget(LIMITS);
    const victim = fill(budget, 3000, 1);
    const heavy = fill(budget, 1000, 3);
    fill(budget, 2000, 2);
    const admitted = budget.admit(connection(4000));
    expect(admitted).toEqual({ ok: true, evicted: [heavy[0]] });
    expect(victim[0]!.evicted).toBe(false);
  });

  it('when every connection of a full pool is busy, an account with none yet still gets a reserved place', () => {
    const budget = new ConnectionBudget(LIMITS);
    fill(budget, 1000, 3, true);
    fill(budget, 2000, 3, true);
    expect(budget.admit(connection(3000, { busy: true }))).toEqual({ ok: true, evicted: [] });
    expect(budget.admit(connection(3000))).toEqual({ ok: false }); // not a newcomer any more
    expect(budget.admit(connection(4000, { busy: true }))).toEqual({ ok: true, evicted: [] });
    expect(budget.admit(connection(5000))).toEqual({ ok: false }); // the reserve is used up
  });

  it('root has a pool of its own that no unprivileged account can fill', () => {
    const budget = new ConnectionBudget(LIMITS);
    fill(budget, 1000, 3, true);
    fill(budget, 2000, 3, true);
    for (let i = 0; i < 6; i++) expect(budget.admit(connection(0, { busy: true }))).toMatchObject({ ok: true });
    expect(budget.admit(connection(0))).toEqual({ ok: false }); // six busy: nothing to evict
  });

  it('a released connection frees its place', () => {
    const budget = new ConnectionBudget(LIMITS);
    const held = fill(budget, 1000, 3, true);
    budget.release(held[0]!);
    expect(budget.admit(connection(1000, { busy: true }))).toEqual({ ok: true, evicted: [] });
  });
});

describe('RequestRateLimiter', () => {
  it('lets a burst through, then one request per 1/rate seconds, and says when to come back', () => {
    const limiter = new RequestRateLimiter(LIMITS);
    for (let i = 0; i < 4; i++) expect(limiter.take(1000, 0)).toEqual({ ok: true });
    expect(limiter.take(1000, 0)).toEqual({ ok: false, waitMs: 100, retryAfterSeconds: 1 });
    expect(limiter.take(1000, 50)).toEqual({ ok: false, waitMs: 50, retryAfterSeconds: 1 });
    expect(limiter.take(1000, 100)).toEqual({ ok: true });
    expect(limiter.take(2000, 100)).toEqual({ ok: true }); // accounts are separate
  });

  it('refills to the burst, never beyond, and forgets full buckets', () => {
    const limiter = new RequestRateLimiter(LIMITS);
    for (let i = 0; i < 4; i++) limiter.take(1000, 0);
    const later = 3_600_000;
    for (let i = 0; i < 4; i++) expect(limiter.take(1000, later)).toEqual({ ok: true });
    expect(limiter.take(1000, later)).toMatchObject({ ok: false });
    limiter.sweep(later + 1_000);
    for (let i = 0; i < 4; i++) expect(limiter.take(1000, later + 1_000)).toEqual({ ok: true });
  });
});
