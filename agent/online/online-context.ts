/** What the online side of the agent shares with the offline side (agent-service.ts). */
import type { Policy } from '../../protocol/policy-settings.js';
import { currentAccount } from '../../platform/users.js';
import type { AuditEntry, AuditLog } from '../state/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import type { KdfParams } from '../offline-pin/kdf.js';
import type { KeyedMutex } from '../keyed-mutex.js';
import type { Logger } from '../../platform/log.js';
import { emptyUserState, type UserState } from '../state/user-state.js';
import type { UserStateStore } from '../state/user-state-store.js';
import type { ControlCenterLink } from './control-center-link.js';

export interface OnlineContext {
  readonly link: ControlCenterLink;
  readonly store: UserStateStore;
  readonly mutex: KeyedMutex;
  readonly audit: AuditLog;
  readonly log: Logger;
  readonly clock: Clock;
  /** The policy in force (signed, from the Control Center). */
  readonly policy: () => Policy;
  readonly kdf: KdfParams;
}

/**
 * Reads the user's state under their lock, lets `change` decide, and makes the returned state
 * durable before returning (the same discipline as every offline decision).
 */
export async function updateUser<T>(
  ctx: OnlineContext,
  user: string,
  change: (state: UserState) => Promise<{ next: UserState | null; result: T }> | { next: UserState | null; result: T },
): Promise<T> {
  return ctx.mutex.run(user, async () => {
    const state = (await ctx.store.read(user)) ?? emptyUserState(user);
    const { next, result } = await change(state);
    if (next !== null) await ctx.store.write({ ...next, generation: state.generation + 1 });
    return result;
  });
}

/** An audit entry for something the agent did on its own (no IPC peer). */
export function auditOnline(
  ctx: OnlineContext,
  entry: Omit<AuditEntry, 'peer' | 'context'> & { context?: string | null },
): void {
  ctx.audit.append(
    { context: null, ...entry, peer: { pid: process.pid, uid: currentAccount() } },
    ctx.clock.now().wallMs,
  );
}
