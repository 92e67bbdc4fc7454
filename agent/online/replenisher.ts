/**
 * Replenishment (R9; docs/online-protocol.md "Replenishment"): after a successful online sign-in
 * the agent issues a new pool for (user, phone) as *pending* — its seed sealed to the phone and
 * kept only as that envelope — uploads it, and makes it live when the phone's signed
 * confirmation arrives (or when a PIN from it is typed). The current pool stays live until then.
 * Everything here runs in the background with backoff; nothing waits on it at a lock screen.
 */
import * as v from 'valibot';
import { checkPoolConfirm } from '../../protocol/online/approvals.js';
import { ApiError } from '../../platform/api-client.js';
import { fromBase64url, toBase64url } from '../../protocol/online/base64url.js';
import { newId } from '../../protocol/online/ids.js';
import { PoolDeliveryStatusResponseSchema } from '../../protocol/online/http-bodies.js';
import { sealPoolEnvelope, type PoolEnvelope } from '../../protocol/online/pool-envelope.js';
import { issuePool } from '../offline-pin/offline-pin-pool.js';
import type { PendingPool } from '../state/user-state.js';
import { abortableSleep } from '../../platform/abortable-sleep.js';
import { auditOnline, updateUser, type OnlineContext } from './online-context.js';

const FIRST_POLL_MS = 1_000;
const MAX_POLL_MS = 30_000;
const MAX_BACKOFF_MS = 5 * 60_000;

/** A (user, phone) whose replenishment is running: asked again while it runs, it runs once more, woken from any wait. */
interface Run {
  again: boolean;
  wake: AbortController;
}

export class Replenisher {
  readonly #inFlight = new Map<string, Run>();
  readonly #abort = new AbortController();

  constructor(private readonly ctx: OnlineContext) {}

  stop(): void {
    this.#abort.abort();
  }

  /** After a successful sign-in with `deviceId`: make sure a new pool is on its way. */
  schedule(user: string, deviceId: string): void {
    void this.#run(user, deviceId).catch((error: unknown) =>
      this.ctx.log.error('replenish.failed', { user, deviceId, error: error as Error }),
    );
  }

  /** Finishes every delivery a restart interrupted. */
  async resumeAll(): Promise<void> {
    const { states } = await this.ctx.store.list();
    for (const state of states) for (const pending of state.pendingPools) this.schedule(state.user, pending.deviceId);
  }

  async #run(user: string, deviceId: string): Promise<void> {
    const key = `${user}\u0000${deviceId}`;
    const running = this.#inFlight.get(key);
    if (running) {
      // A sign-in while the last delivery is still waiting (the Control Center away, say): that
      // one may be done by now (a PIN from it activated it); look again at once rather than drop this.
      running.again = true;
      running.wake.abort();
      running.wake = new AbortController();
      return;
    }
    const run: Run = { again: true, wake: new AbortController() };
    this.#inFlight.set(key, run);
    try {
      while (run.again && !this.#abort.signal.aborted) {
        run.again = false;
        const pending = await this.#ensurePending(user, deviceId);
        if (pending === null) return;
        if (
          !pending.uploaded &&
          (await this.#retry(run, user, pending, () => this.#upload(user, pending).then(() => true))) === null
        )
          continue;
        await this.#awaitConfirmation(run, user, pending);
      }
    } finally {
      this.#inFlight.delete(key);
    }
  }

  /** The pending pool for (user, device), issued now (durably, before anything is sent) if there is none. */
  async #ensurePending(user: string, deviceId: string): Promise<PendingPool | null> {
    const { ctx } = this;
    return updateUser(ctx, user, async (state) => {
      const existing = state.pendingPools.find((pending) => pending.deviceId === deviceId);
      if (existing) return { next: null, result: existing };
      const device = state.devices.find((known) => known.deviceId === deviceId);
      const policy = ctx.policy();
      if (!device || !policy.offlineMode) return { next: null, result: null }; // R1: no offline PINs issued while Offline Mode is off
      const deliveryId = newId('pd');
      const identity = ctx.link.loaded;
      let envelope: PoolEnvelope | undefined;
      const { pool } = await issuePool({
        user,
        host: identity.identity.name,
        authenticatorId: deviceId,
        format: { charset: policy.pinCharset, length: policy.pinLength },
        pinCount: policy.pinCount,
        kdf: ctx.kdf,
        now: ctx.clock.now(),
        sealSeed: async (seed, issued) => {
          envelope = await sealPoolEnvelope(
            {
              deliveryId,
              poolId: issued.poolId,
              workstationId: identity.identity.workstationId,
              user,
              seed: toBase64url(seed),
              charset: issued.charset,
              length: issued.length,
              counter: issued.start,
              count: issued.limit - issued.start,
              issuedAt: issued.issuedAtMs,
            },
            deviceId,
            fromBase64url(device.boxKey),
            identity.privateKey,
          );
        },
      });
      const pending: PendingPool = { deliveryId, deviceId, uploaded: false, pool, envelope: envelope! };
      ctx.log.info('replenish.issued', { user, deviceId, deliveryId, pinCount: pool.limit });
      return { next: { ...state, pendingPools: [...state.pendingPools, pending] }, result: pending };
    });
  }

  async #upload(user: string, pending: PendingPool): Promise<void> {
    await this.ctx.link.call(
      'PUT',
      `/v1/workstation/pool-deliveries/${pending.deliveryId}`,
      { user, deviceId: pending.deviceId, envelope: pending.envelope },
      v.unknown(),
      10_000,
      this.#abort.signal,
    );
    await updateUser(this.ctx, user, (state) => {
      const current = state.pendingPools.find((candidate) => candidate.deliveryId === pending.deliveryId);
      if (!current || current.uploaded) return { next: null, result: undefined };
      return {
        next: {
          ...state,
          pendingPools: state.pendingPools.map((candidate) =>
            candidate === current ? { ...candidate, uploaded: true } : candidate,
          ),
        },
        result: undefined,
      };
    });
  }

  /** Polls until the phone confirms (then activates), a PIN from the pool activated it, or the agent stops. */
  async #awaitConfirmation(run: Run, user: string, pending: PendingPool): Promise<void> {
    let delay = FIRST_POLL_MS;
    while (!this.#abort.signal.aborted) {
      const status = await this.#retry(run, user, pending, () =>
        this.ctx.link.call(
          'GET',
          `/v1/workstation/pool-deliveries/${pending.deliveryId}`,
          undefined,
          PoolDeliveryStatusResponseSchema,
          10_000,
          this.#abort.signal,
        ),
      );
      if (status === null) return;
      if ('signature' in status) {
        await this.#activate(user, pending, status.poolId, status.signature);
        return;
      }
      await this.#sleep(run, delay);
      delay = Math.min(MAX_POLL_MS, delay * 2);
    }
  }

  async #activate(user: string, pending: PendingPool, poolId: string, signature: string): Promise<void> {
    const { ctx } = this;
    const activated = await updateUser(ctx, user, async (state) => {
      const current = state.pendingPools.find((candidate) => candidate.deliveryId === pending.deliveryId);
      const device = state.devices.find((known) => known.deviceId === pending.deviceId);
      if (!current || !device) return { next: null, result: false };
      const fields = {
        deliveryId: current.deliveryId,
        poolId,
        deviceId: current.deviceId,
        workstationId: ctx.link.workstationId,
        user,
      };
      if (
        poolId !== current.pool.poolId ||
        !(await checkPoolConfirm(fields, signature, fromBase64url(device.signingKey)))
      ) {
        ctx.log.error('replenish.bad-confirmation', { user, deliveryId: current.deliveryId });
        return { next: null, result: false };
      }
      return {
        next: {
          ...state,
          pools: [...state.pools.filter((pool) => pool.authenticatorId !== current.deviceId), current.pool],
          pendingPools: state.pendingPools.filter((candidate) => candidate !== current),
        },
        result: true,
      };
    });
    if (activated) {
      auditOnline(ctx, {
        event: 'replenish',
        user,
        authenticatorId: pending.deviceId,
        result: 'ok',
        reason: null,
        remaining: pending.pool.limit - pending.pool.next,
      });
      ctx.log.info('replenish.confirmed', { user, deviceId: pending.deviceId, deliveryId: pending.deliveryId });
    }
  }

  /**
   * Runs `attempt` until it succeeds, backing off while the Control Center is unreachable; null
   * once stopped, refused for good, or once `pending` is no longer waiting (a PIN from it made it
   * live, or it was replaced) — which is looked at before every try.
   */
  async #retry<T>(run: Run, user: string, pending: PendingPool, attempt: () => Promise<T>): Promise<T | null> {
    let delay = 2_000;
    while (!this.#abort.signal.aborted) {
      const current = (await this.ctx.store.read(user))?.pendingPools.find(
        (candidate) => candidate.deliveryId === pending.deliveryId,
      );
      if (!current) return null;
      try {
        return await attempt();
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        // The Control Center refused this for good (a bug on one side): say so and stop, never loop on it.
        if (!error.offline && !['rate-limited', 'internal', 'bad-response'].includes(error.code)) {
          this.ctx.log.error('replenish.refused', { code: error.code, reason: error.message });
          return null;
        }
        this.ctx.log.debug('replenish.retry', { code: error.code, delayMs: delay });
        await this.#sleep(run, delay);
        delay = Math.min(MAX_BACKOFF_MS, delay * 2);
      }
    }
    return null;
  }

  #sleep(run: Run, ms: number): Promise<void> {
    return abortableSleep(ms, this.#abort.signal, run.wake.signal);
  }
}
