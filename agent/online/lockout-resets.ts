/**
 * Lockout resets an admin asked for at the Control Center (docs/online-protocol.md "Lockout
 * reset"): the inbox lists them; the agent clears that user's failed-attempt ladder — the same
 * change as `latchkey reset` — durably, audits it, and then tells the CC it is done.
 */
import * as v from 'valibot';
import { FRESH_HAMMERING } from '../offline-pin/anti-hammering.js';
import { auditOnline, type OnlineContext } from './online-context.js';

const DONE_TIMEOUT_MS = 10_000;

export class LockoutResets {
  /** Resets cleared here whose acknowledgement has not reached the CC yet: a repeat only acknowledges. */
  readonly #cleared = new Map<string, 'cleared' | 'no-state'>();

  constructor(private readonly ctx: OnlineContext) {}

  /** Clears, then acknowledges; throws ApiError when the CC does not take the acknowledgement (the inbox lists it again). */
  async apply(reset: { readonly resetId: string; readonly user: string }, signal?: AbortSignal): Promise<void> {
    const { ctx } = this;
    let result = this.#cleared.get(reset.resetId);
    if (result === undefined) {
      result = await ctx.mutex.run(reset.user, async () => {
        const state = await ctx.store.read(reset.user);
        if (state === null) return 'no-state' as const;
        await ctx.store.write({ ...state, generation: state.generation + 1, hammering: FRESH_HAMMERING });
        return 'cleared' as const;
      });
      this.#cleared.set(reset.resetId, result);
      auditOnline(ctx, {
        event: 'reset',
        user: reset.user,
        authenticatorId: null,
        result: 'ok',
        reason: 'control-center',
        remaining: null,
        context: reset.resetId,
      });
      ctx.log.info('lockout-reset', { user: reset.user, resetId: reset.resetId, result });
    }
    await ctx.link.call(
      'POST',
      `/v1/workstation/lockout-resets/${reset.resetId}`,
      { result },
      v.unknown(),
      DONE_TIMEOUT_MS,
      signal,
    );
    this.#cleared.delete(reset.resetId);
  }
}
