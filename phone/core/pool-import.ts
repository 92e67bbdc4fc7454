/**
 * Importing a pool delivery (docs/online-protocol.md "Replenishment", step 2; docs/phone.md
 * "Pools"): open the envelope with the workstation key from pairing, store the pool as pending,
 * confirm it, and on the Control Center's acknowledgement make it current, deleting the old seed
 * in the same durable write. Every step is safe to repeat.
 */
import { signPoolConfirm } from '../../protocol/online/approvals.js';
import { fromBase64urlOfLength } from '../../protocol/online/base64url.js';
import { openPoolEnvelope, type EnvelopeOpening } from '../../protocol/online/pool-envelope.js';
import type { PhoneContext } from './phone-context.js';
import { serverCode, type InboxPoolDelivery } from './device-api.js';
import { PhoneError } from './errors.js';
import type { Pairing, PhoneState, StoredPool } from './phone-state.js';

type Who = {
  readonly deliveryId: string;
  readonly workstationId: string;
  readonly workstationName: string;
  readonly user: string;
};
export type PoolImport =
  | (Who & {
      readonly ok: true;
      readonly outcome: 'imported' | 'already-held';
      readonly confirmed: boolean;
      readonly count: number;
    })
  | (Who & {
      readonly ok: false;
      readonly code:
        | 'not-paired'
        | 'stale'
        | 'user-mismatch'
        | 'delivery-gone'
        | Extract<EnvelopeOpening, { ok: false }>['code'];
      readonly message: string;
    });

export interface Endpoint {
  readonly url: string;
  readonly deviceId: string;
}

function findPairing(
  state: PhoneState,
  endpoint: Endpoint,
  delivery: { workstationId: string; user: string },
): Pairing | undefined {
  return state.pairings.find(
    (p) =>
      p.workstationId === delivery.workstationId &&
      p.user === delivery.user &&
      p.deviceId === endpoint.deviceId &&
      p.url === endpoint.url,
  );
}

function isStale(pairing: Pairing, issuedAt: number): boolean {
  return (
    (pairing.pool !== null && issuedAt < pairing.pool.issuedAt) ||
    (pairing.pendingPool !== null && issuedAt < pairing.pendingPool.issuedAt)
  );
}

export async function importPoolDelivery(
  ctx: PhoneContext,
  endpoint: Endpoint,
  delivery: InboxPoolDelivery,
): Promise<PoolImport> {
  const pairing = findPairing(await ctx.store.read(), endpoint, delivery);
  const who = {
    deliveryId: delivery.deliveryId,
    workstationId: delivery.workstationId,
    workstationName: pairing?.workstationName ?? delivery.workstationId,
    user: delivery.user,
  };
  if (!pairing)
    return {
      ...who,
      ok: false,
      code: 'not-paired',
      message: 'a pool arrived for a workstation this phone is not paired with',
    };
  const held = [pairing.pool, pairing.pendingPool].find((pool) => pool?.deliveryId === delivery.deliveryId);
  if (held) return settle(ctx, endpoint, pairing, held, who, 'already-held');

  const workstationKey = fromBase64urlOfLength(pairing.workstationKey, 32, 'workstationKey');
  const opened = await openPoolEnvelope(delivery.envelope, workstationKey, ctx.keys.box, ctx.keys.boxPublic, {
    deviceId: endpoint.deviceId,
    workstationId: pairing.workstationId,
  });
  if (!opened.ok) return { ...who, ok: false, code: opened.code, message: opened.message };
  const contents = opened.contents;
  if (contents.user !== pairing.user || delivery.envelope.user !== pairing.user)
    return { ...who, ok: false, code: 'user-mismatch', message: 'the pool is for another user' };
  const pool: StoredPool = {
    deliveryId: contents.deliveryId,
    poolId: contents.poolId,
    seed: contents.seed,
    charset: contents.charset,
    length: contents.length,
    start: contents.counter,
    count: contents.count,
    next: contents.counter,
    issuedAt: contents.issuedAt,
    receivedAt: ctx.clock.now(),
  };
  const stored = await ctx.store.update((state) => {
    const current = findPairing(state, endpoint, delivery);
    if (!current || isStale(current, pool.issuedAt)) return false;
    if (current.pool?.deliveryId === pool.deliveryId || current.pendingPool?.deliveryId === pool.deliveryId)
      return true;
    current.pendingPool = pool;
    return true;
  });
  if (!stored) return { ...who, ok: false, code: 'stale', message: 'a newer pool is already held' };
  return settle(ctx, endpoint, pairing, pool, who, 'imported');
}

/** Confirms `pool`; a delivery the Control Center no longer has is dropped when still pending. */
async function settle(
  ctx: PhoneContext,
  endpoint: Endpoint,
  pairing: Pairing,
  pool: StoredPool,
  who: Who,
  outcome: 'imported' | 'already-held',
): Promise<PoolImport> {
  try {
    return { ...who, ok: true, outcome, confirmed: await confirm(ctx, endpoint, pairing, pool), count: pool.count };
  } catch (error) {
    const code = serverCode(error);
    if (code !== 'gone' && code !== 'not-found') throw error;
  }
  await ctx.store.update((state) => {
    const current = findPairing(state, endpoint, pairing);
    if (current?.pendingPool?.deliveryId === pool.deliveryId) current.pendingPool = null;
  });
  return { ...who, ok: false, code: 'delivery-gone', message: 'the Control Center no longer has this delivery' };
}

/**
 * Sends the confirmation and, once acknowledged, makes the pool current (the old seed goes in the
 * same write). False when the Control Center could not be reached: the inbox retries later.
 * Throws `refused` as is, so the caller can tell a delivery that is gone.
 */
async function confirm(ctx: PhoneContext, endpoint: Endpoint, pairing: Pairing, pool: StoredPool): Promise<boolean> {
  const signature = await signPoolConfirm(
    {
      deliveryId: pool.deliveryId,
      poolId: pool.poolId,
      deviceId: endpoint.deviceId,
      workstationId: pairing.workstationId,
      user: pairing.user,
    },
    ctx.keys.signing,
  );
  try {
    await ctx.api(endpoint).confirmPool(pool.deliveryId, { poolId: pool.poolId, signature });
  } catch (error) {
    // A repeat for the current pool changes nothing whatever the answer.
    if (pairing.pool?.deliveryId === pool.deliveryId) return false;
    if (
      error instanceof PhoneError &&
      error.code === 'refused' &&
      (serverCode(error) === 'gone' || serverCode(error) === 'not-found')
    )
      throw error;
    if (!(error instanceof PhoneError)) throw error;
    // The confirmation may have got through with its answer lost: from now on the phone shows
    // this pool's PINs, which the agent accepts either way (offline-pin-rules.ts).
    await ctx.store.update((state) => {
      const current = findPairing(state, endpoint, pairing);
      if (current?.pendingPool?.deliveryId === pool.deliveryId) current.pendingPool.confirmTriedAt ??= ctx.clock.now();
    });
    return false;
  }
  await ctx.store.update((state) => {
    const current = findPairing(state, endpoint, pairing);
    if (current?.pendingPool?.deliveryId !== pool.deliveryId) return;
    current.pool = current.pendingPool;
    current.pendingPool = null;
  });
  return true;
}

/**
 * Confirms again a pending pool the inbox no longer lists: a confirmation that reached the
 * Control Center takes the delivery out of the inbox even when its answer never came back.
 */
export async function reconfirmPending(
  ctx: PhoneContext,
  endpoint: Endpoint,
  listed: ReadonlySet<string>,
): Promise<PoolImport[]> {
  const state = await ctx.store.read();
  const waiting = state.pairings.filter(
    (p) =>
      p.deviceId === endpoint.deviceId &&
      p.url === endpoint.url &&
      p.pendingPool !== null &&
      !listed.has(p.pendingPool.deliveryId),
  );
  const results: PoolImport[] = [];
  for (const pairing of waiting) {
    const pool = pairing.pendingPool!;
    const who = {
      deliveryId: pool.deliveryId,
      workstationId: pairing.workstationId,
      workstationName: pairing.workstationName,
      user: pairing.user,
    };
    results.push(await settle(ctx, endpoint, pairing, pool, who, 'already-held'));
  }
  return results;
}
