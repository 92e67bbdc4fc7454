/** What every route handler is given: storage, the wake-up bus, the CC keys, the clock, the log, the limiters. */
import type { Logger } from '../../platform/log.js';
import type { EventBus } from '../event-bus.js';
import type { CcKeys } from '../keys.js';
import type { AuditDetail, AuditEntry } from '../storage/records.js';
import type { Storage } from '../storage/storage.js';
import type { ConsoleSessions } from './console-session.js';
import type { Limiters } from './rate-limit.js';

export interface CcContext {
  readonly storage: Storage;
  readonly bus: EventBus;
  readonly keys: CcKeys;
  readonly now: () => number;
  readonly log: Logger;
  readonly limiters: Limiters;
  readonly consoleSessions: ConsoleSessions;
  /** The tenant of unauthenticated requests (enrollment and redemption resolve theirs from the token or pairing). */
  readonly defaultTenantId: string;
}

export function audit(
  ctx: CcContext,
  fields: {
    tenantId: string | null;
    actor: string;
    address: string | null;
    action: string;
    target?: string | null;
    result: string;
    detail?: AuditDetail | null;
  },
): AuditEntry {
  return { time: ctx.now(), target: null, detail: null, ...fields };
}

/** Who acted, as the audit names them: an administrator (its token's actor), a device, a workstation. */
export interface AuditActor {
  readonly tenantId: string;
  readonly actor: string;
}

export const deviceActor = (device: { readonly id: string; readonly tenantId: string }): AuditActor => ({
  tenantId: device.tenantId,
  actor: `device:${device.id}`,
});
export const workstationActor = (workstation: { readonly id: string; readonly tenantId: string }): AuditActor => ({
  tenantId: workstation.tenantId,
  actor: `workstation:${workstation.id}`,
});

/** The audit entry of what `who` did (docs/control-center.md "Audit"): who, from where, what on which, with what result. */
export function auditResult(
  ctx: CcContext,
  who: AuditActor,
  request: { readonly ip: string },
  action: string,
  target: string | null,
  result: string,
  detail?: AuditDetail,
): AuditEntry {
  return audit(ctx, {
    tenantId: who.tenantId,
    actor: who.actor,
    address: request.ip,
    action,
    target,
    result,
    ...(detail ? { detail } : {}),
  });
}

/** The audit entry of a change that succeeded. */
export function auditOk(
  ctx: CcContext,
  who: AuditActor,
  request: { readonly ip: string },
  action: string,
  target: string | null,
  detail?: AuditDetail,
): AuditEntry {
  return auditResult(ctx, who, request, action, target, 'ok', detail);
}
