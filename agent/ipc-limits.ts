/**
 * How many connections each local account may hold and how many requests it may send
 * (docs/ipc.md "Limits per account"), so that one user can never take another user's lock
 * screen away (issue 9). Pure: the IPC server feeds it connections and the clock.
 *
 * An account is the real uid of the connecting process: a setuid `su` started by user A counts
 * as A's, although it asks with root's authority. Privileged accounts (root, the agent's own
 * uid) have a pool of their own that unprivileged accounts cannot touch.
 */

import type { AccountId } from '../platform/ipc-transport.js';

export interface IpcLimits {
  /** Connections one unprivileged account may hold. */
  readonly connectionsPerAccount: number;
  /** Connections all unprivileged accounts together may hold; privileged ones have as many again. */
  readonly connectionsPerPool: number;
  /** Beyond a full pool, room kept for accounts that hold no connection yet (a lock screen's first). */
  readonly reservedForNewAccounts: number;
  /** Requests (and new connections) an unprivileged account may send per second, on average… */
  readonly requestsPerSecond: number;
  /** …and in one burst. */
  readonly requestBurst: number;
}

export const DEFAULT_IPC_LIMITS: IpcLimits = Object.freeze({
  connectionsPerAccount: 8,
  connectionsPerPool: 64,
  reservedForNewAccounts: 16,
  requestsPerSecond: 10,
  requestBurst: 40,
});

/** What the budget knows of a connection; `evict` closes it without a reply, like the idle timeout. */
export interface TrackedConnection {
  readonly account: AccountId;
  readonly privileged: boolean;
  /** A request is being answered: never evicted. */
  busy: boolean;
  /** When the last frame arrived or the last reply went out. */
  lastActiveMs: number;
  evict(): void;
}

export type Admission = { ok: true; evicted: readonly TrackedConnection[] } | { ok: false };

function oldestIdle(connections: Iterable<TrackedConnection>): TrackedConnection | undefined {
  let oldest: TrackedConnection | undefined;
  for (const connection of connections) {
    if (!connection.busy && (oldest === undefined || connection.lastActiveMs < oldest.lastActiveMs))
      oldest = connection;
  }
  return oldest;
}

/**
 * The connections in use. A new one is admitted when its account and its pool have room, or
 * when an idle connection can make room: first the account's own oldest idle one, then (pool
 * full) the oldest idle one of the account holding the most. A lock screen's module reconnects
 * when its kept connection was closed (docs/pam.md), so an idle connection costs nobody an
 * unlock. When every candidate is busy, an unprivileged account that holds no connection yet
 * still gets one of the reserved places; only then is the new connection refused.
 */
export class ConnectionBudget {
  readonly #connections = new Set<TrackedConnection>();

  constructor(private readonly limits: IpcLimits = DEFAULT_IPC_LIMITS) {}

  get size(): number {
    return this.#connections.size;
  }

  admit(connection: TrackedConnection): Admission {
    const evicted: TrackedConnection[] = [];
    const pool = [...this.#connections].filter((other) => other.privileged === connection.privileged);
    if (!connection.privileged) {
      const own = pool.filter((other) => other.account === connection.account);
      if (own.length >= this.limits.connectionsPerAccount) {
        const victim = oldestIdle(own);
        if (victim === undefined) return { ok: false };
        evicted.push(victim);
      }
    }
    const remaining = pool.filter((other) => !evicted.includes(other));
    if (remaining.length >= this.limits.connectionsPerPool) {
      const victim = connection.privileged ? oldestIdle(remaining) : this.#heaviestAccountsIdle(remaining);
      const newcomer = !connection.privileged && !remaining.some((other) => other.account === connection.account);
      if (victim !== undefined) evicted.push(victim);
      else if (!newcomer || remaining.length >= this.limits.connectionsPerPool + this.limits.reservedForNewAccounts)
        return { ok: false };
    }
    for (const victim of evicted) this.release(victim);
    this.#connections.add(connection);
    return { ok: true, evicted };
  }

  release(connection: TrackedConnection): void {
    this.#connections.delete(connection);
  }

  #heaviestAccountsIdle(pool: readonly TrackedConnection[]): TrackedConnection | undefined {
    const byAccount = new Map<AccountId, TrackedConnection[]>();
    for (const connection of pool)
      byAccount.set(connection.account, [...(byAccount.get(connection.account) ?? []), connection]);
    const heaviestFirst = [...byAccount.values()].sort((a, b) => b.length - a.length);
    for (const connections of heaviestFirst) {
      const victim = oldestIdle(connections);
      if (victim !== undefined) return victim;
    }
    return undefined;
  }
}

/** A token bucket per unprivileged account: `take` answers whether one more request may go now. */
export class RequestRateLimiter {
  readonly #buckets = new Map<AccountId, { tokens: number; atMs: number }>();

  constructor(private readonly limits: IpcLimits = DEFAULT_IPC_LIMITS) {}

  /** Takes a token; when there is none, how long until there is one (ms, and whole seconds for the reply). */
  take(account: AccountId, nowMs: number): { ok: true } | { ok: false; waitMs: number; retryAfterSeconds: number } {
    const { requestsPerSecond, requestBurst } = this.limits;
    const bucket = this.#buckets.get(account) ?? { tokens: requestBurst, atMs: nowMs };
    bucket.tokens = Math.min(requestBurst, bucket.tokens + ((nowMs - bucket.atMs) * requestsPerSecond) / 1000);
    bucket.atMs = nowMs;
    this.#buckets.set(account, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    const waitMs = Math.ceil(((1 - bucket.tokens) * 1000) / requestsPerSecond);
    return { ok: false, waitMs, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
  }

  /** Forgets buckets that are full again (called now and then; the map holds at most one per local uid). */
  sweep(nowMs: number): void {
    const { requestsPerSecond, requestBurst } = this.limits;
    for (const [account, bucket] of this.#buckets) {
      if (bucket.tokens + ((nowMs - bucket.atMs) * requestsPerSecond) / 1000 >= requestBurst)
        this.#buckets.delete(account);
    }
  }
}
