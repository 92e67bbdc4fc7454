/**
 * Admin: install tokens (shown once), workstations (list, move, remove), users and their
 * phones (list, revoke) (docs/control-center.md "Admin API").
 */
import type { FastifyInstance } from 'fastify';
import * as v from 'valibot';
import { idSchema } from '../../../protocol/online/http-bodies.js';
import { newId } from '../../../protocol/online/ids.js';
import { CreateInstallTokenRequestSchema, INSTALL_TOKEN_DEFAULT_HOURS } from '../../admin-api.js';
import { INSTALL_TOKEN_DEFAULT_USES, MoveWorkstationRequestSchema } from '../../admin-api.js';
import { CcError } from '../../errors.js';
import { newInstallToken, tokenDigest } from '../../secrets.js';
import type { Binding, Device, InstallToken } from '../../storage/records.js';
import { adminRead, endById } from '../admin-route.js';
import { authenticateAdmin } from '../authenticate.js';
import { queryInteger, readBody, readParam, readQuery } from '../boundary.js';
import { type CcContext, auditOk } from '../route-context.js';
import { workstationView } from './admin-workstations.js';

const HOUR_MS = 3_600_000;

const installTokenView = (t: InstallToken) => ({
  installTokenId: t.id,
  groupId: t.groupId,
  note: t.note,
  createdAt: t.createdAt,
  expiresAt: t.expiresAt,
  maxUses: t.maxUses,
  uses: t.uses,
  revokedAt: t.revokedAt,
});
const deviceView = (d: Device & { bindings: Binding[] }) => ({
  deviceId: d.id,
  name: d.name,
  createdAt: d.createdAt,
  lastSeenAt: d.lastSeenAt,
  revokedAt: d.revokedAt,
  bindings: d.bindings.map((b) => ({ workstationId: b.workstationId, user: b.user, createdAt: b.createdAt })),
});

const WorkstationsQuery = v.strictObject({
  groupId: v.optional(idSchema('g')),
  after: v.optional(idSchema('ws')),
  limit: queryInteger(1, 1000, 100),
});
const DevicesQuery = v.strictObject({ user: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(256))) });

export function adminFleetRoutes(app: FastifyInstance, ctx: CcContext): void {
  app.post('/v1/admin/install-tokens', async (request, reply) => {
    const admin = await authenticateAdmin(ctx, request);
    const body = readBody(request, CreateInstallTokenRequestSchema);
    const groupId = body.groupId ?? (await ctx.storage.listGroups(admin.tenantId)).find((g) => g.isDefault)!.id;
    const group = await ctx.storage.getGroup(groupId);
    if (!group || group.tenantId !== admin.tenantId) throw new CcError('not-found', 'groupId names no group.');
    const token = newInstallToken();
    const now = ctx.now();
    const id = newId('it');
    const created = await ctx.storage.createInstallToken(
      {
        id,
        tenantId: admin.tenantId,
        groupId,
        note: body.note ?? '',
        createdAt: now,
        expiresAt: now + (body.expiresInHours ?? INSTALL_TOKEN_DEFAULT_HOURS) * HOUR_MS,
        maxUses: body.maxUses ?? INSTALL_TOKEN_DEFAULT_USES,
        sha256: await tokenDigest(token),
      },
      auditOk(ctx, admin, request, 'install-token.create', id, {
        groupId,
        maxUses: body.maxUses ?? INSTALL_TOKEN_DEFAULT_USES,
      }),
    );
    return reply.code(201).send({ ...installTokenView(created), token });
  });

  adminRead(app, ctx, '/v1/admin/install-tokens', async (admin) => ({
    installTokens: (await ctx.storage.listInstallTokens(admin.tenantId)).map(installTokenView),
  }));

  app.delete('/v1/admin/install-tokens/:id', async (request, reply) => {
    const result = await endById(ctx, request, idSchema('it'), 'install-token.revoke', (...end) =>
      ctx.storage.revokeInstallToken(...end),
    );
    if (!result.ok) throw new CcError('not-found', 'There is no active install token with that id.');
    return reply.send(installTokenView(result.token));
  });

  app.get('/v1/admin/workstations', async (request, reply) => {
    const admin = await authenticateAdmin(ctx, request);
    const query = readQuery(request, WorkstationsQuery);
    const page = await ctx.storage.listWorkstations(admin.tenantId, query);
    const bindings = await ctx.storage.fleetBindings(page.items.map((w) => w.id));
    return reply.send({ workstations: page.items.map((w) => workstationView(w, bindings)), next: page.next });
  });

  app.put('/v1/admin/workstations/:id/group', async (request, reply) => {
    const admin = await authenticateAdmin(ctx, request);
    const id = readParam(request, 'id', idSchema('ws'));
    const { groupId } = readBody(request, MoveWorkstationRequestSchema);
    const result = await ctx.storage.moveWorkstation(
      admin.tenantId,
      id,
      groupId,
      ctx.now(),
      auditOk(ctx, admin, request, 'workstation.move', id, { groupId }),
    );
    if (!result.ok)
      throw new CcError(
        'not-found',
        result.code === 'no-group' ? 'groupId names no group.' : 'There is no workstation with that id.',
      );
    ctx.bus.publish('policy');
    return reply.send(workstationView(result.workstation));
  });

  app.delete('/v1/admin/workstations/:id', async (request, reply) => {
    const result = await endById(ctx, request, idSchema('ws'), 'workstation.remove', (...end) =>
      ctx.storage.removeWorkstation(...end),
    );
    if (!result.ok) throw new CcError('not-found', 'There is no workstation with that id.');
    return reply.send(workstationView(result.workstation));
  });

  adminRead(app, ctx, '/v1/admin/users', async (admin) => ({ users: await ctx.storage.listUsers(admin.tenantId) }));

  app.get('/v1/admin/devices', async (request, reply) => {
    const admin = await authenticateAdmin(ctx, request);
    const query = readQuery(request, DevicesQuery);
    return reply.send({ devices: (await ctx.storage.listDevices(admin.tenantId, query)).map(deviceView) });
  });

  app.delete('/v1/admin/devices/:id', async (request, reply) => {
    const result = await endById(ctx, request, idSchema('dev'), 'device.revoke', (...end) =>
      ctx.storage.revokeDevice(...end),
    );
    if (!result.ok) throw new CcError('not-found', 'There is no active phone with that id.');
    ctx.bus.publish(`device:${result.device.id}`);
    return reply.send(deviceView({ ...result.device, bindings: [] }));
  });
}
