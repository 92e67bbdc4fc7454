/**
 * Admin: one workstation as the console's fleet view shows it — its phones and lockout resets —
 * ending one phone's pairing there, and asking it to clear a user's lockout; and the
 * workstation's side of a lockout reset (docs/console.md "Fleet", docs/online-protocol.md
 * "Lockout reset").
 */
import type { FastifyInstance } from 'fastify';
import { newId } from '../../../protocol/online/ids.js';
import { idSchema, LockoutResetDoneRequestSchema } from '../../../protocol/online/http-bodies.js';
import { LockoutResetRequestSchema, UnpairRequestSchema } from '../../admin-api.js';
import { CcError } from '../../errors.js';
import type { FleetBinding, LockoutReset, Workstation } from '../../storage/records.js';
import { authenticateAdmin, authenticateWorkstation, type AdminCaller } from '../authenticate.js';
import { NoQuery, readBody, readParam, readQuery } from '../boundary.js';
import { type CcContext, auditOk, auditResult, workstationActor } from '../route-context.js';

const RECENT_RESETS = 20;

/** A workstation as the admin API lists it; with its bindings, the users and phone count of the fleet view. */
export function workstationView(w: Workstation, bindings?: readonly FleetBinding[]) {
  const mine = bindings?.filter((b) => b.workstationId === w.id);
  return {
    workstationId: w.id,
    name: w.name,
    groupId: w.groupId,
    enrolledAt: w.enrolledAt,
    lastSeenAt: w.lastSeenAt,
    removedAt: w.removedAt,
    installTokenId: w.installTokenId,
    policyVersion: w.policyVersion,
    ...(mine
      ? { users: [...new Set(mine.map((b) => b.user))], phones: new Set(mine.map((b) => b.deviceId)).size }
      : {}),
  };
}

const resetView = (r: LockoutReset) => ({
  resetId: r.id,
  user: r.user,
  requestedAt: r.requestedAt,
  requestedBy: r.requestedBy,
  doneAt: r.doneAt,
  result: r.result,
});

async function activeWorkstation(ctx: CcContext, admin: AdminCaller, id: string): Promise<Workstation> {
  const workstation = await ctx.storage.getWorkstation(id);
  if (!workstation || workstation.tenantId !== admin.tenantId || workstation.removedAt !== null)
    throw new CcError('not-found', 'There is no workstation with that id.');
  return workstation;
}

export function adminWorkstationRoutes(app: FastifyInstance, ctx: CcContext): void {
  app.get('/v1/admin/workstations/:id', async (request, reply) => {
    const admin = await authenticateAdmin(ctx, request);
    readQuery(request, NoQuery);
    const workstation = await activeWorkstation(ctx, admin, readParam(request, 'id', idSchema('ws')));
    const bindings = await ctx.storage.fleetBindings([workstation.id]);
    return reply.send({
      workstation: workstationView(workstation, bindings),
      phones: bindings.map((b) => ({
        deviceId: b.deviceId,
        name: b.deviceName,
        user: b.user,
        pairedAt: b.createdAt,
        lastSeenAt: b.deviceLastSeenAt,
      })),
      lockoutResets: (await ctx.storage.listLockoutResets(workstation.id, RECENT_RESETS)).map(resetView),
    });
  });

  app.post('/v1/admin/workstations/:id/unpair', async (request, reply) => {
    const admin = await authenticateAdmin(ctx, request);
    const workstation = await activeWorkstation(ctx, admin, readParam(request, 'id', idSchema('ws')));
    const { deviceId, user } = readBody(request, UnpairRequestSchema);
    const result = await ctx.storage.unbindDevice(
      admin.tenantId,
      { deviceId, workstationId: workstation.id, user },
      auditOk(ctx, admin, request, 'device.unpair', deviceId, { workstationId: workstation.id, user }),
    );
    if (!result.ok) throw new CcError('not-found', 'That phone is not paired for that user on this workstation.');
    ctx.bus.publish(`device:${deviceId}`);
    return reply.send({ ok: true });
  });

  app.post('/v1/admin/workstations/:id/lockout-resets', async (request, reply) => {
    const admin = await authenticateAdmin(ctx, request);
    const workstation = await activeWorkstation(ctx, admin, readParam(request, 'id', idSchema('ws')));
    const { user } = readBody(request, LockoutResetRequestSchema);
    const id = newId('lr');
    const result = await ctx.storage.createLockoutReset(
      {
        id,
        tenantId: admin.tenantId,
        workstationId: workstation.id,
        user,
        requestedAt: ctx.now(),
        requestedBy: admin.actor,
      },
      auditOk(ctx, admin, request, 'lockout-reset.request', workstation.id, { user, resetId: id }),
    );
    if (!result.ok) throw new CcError('not-found', 'There is no workstation with that id.');
    ctx.bus.publish(`workstation:${workstation.id}`);
    return reply.code(202).send(resetView(result.reset));
  });

  app.post('/v1/workstation/lockout-resets/:id', async (request, reply) => {
    const workstation = await authenticateWorkstation(ctx, request);
    const id = readParam(request, 'id', idSchema('lr'));
    const { result } = readBody(request, LockoutResetDoneRequestSchema);
    const done = await ctx.storage.finishLockoutReset(
      { workstationId: workstation.id, id, result, doneAt: ctx.now() },
      auditResult(ctx, workstationActor(workstation), request, 'lockout-reset.done', id, result),
    );
    if (!done.ok) throw new CcError('not-found', 'There is no lockout reset with that id for this workstation.');
    return reply.send(resetView(done.reset));
  });
}
