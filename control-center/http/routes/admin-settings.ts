/**
 * Admin: Workstation Settings per tenant and per group, and the groups themselves
 * (docs/control-center.md "Workstation Settings"). A change is refused when any group's
 * resolved settings would be invalid; an accepted one bumps the revision and wakes every
 * agent waiting on its policy.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { newId } from '../../../protocol/online/ids.js';
import { idSchema, SettingsSchema } from '../../../protocol/online/http-bodies.js';
import { CreateGroupRequestSchema } from '../../admin-api.js';
import { CcError } from '../../errors.js';
import { resolveSettings } from '../../policy.js';
import type { AdminToken, Group, SettingsOverrides, Tenant } from '../../storage/records.js';
import { adminRead } from '../admin-route.js';
import { authenticateAdmin, type AdminCaller } from '../authenticate.js';
import { rawBody, readBody, readParam } from '../boundary.js';
import { audit, type CcContext, auditOk } from '../route-context.js';

const groupIdParam = idSchema('g');

/** Only the keys the admin sent, validated by the shared settings schema. */
function readOverrides(request: FastifyRequest): SettingsOverrides {
  const full = readBody(request, SettingsSchema) as unknown as Record<string, unknown>;
  const sent = Object.keys(JSON.parse(new TextDecoder().decode(rawBody(request))) as object);
  return Object.fromEntries(sent.map((key) => [key, full[key]])) as SettingsOverrides;
}

async function tenantOf(ctx: CcContext, admin: AdminToken): Promise<Tenant> {
  const tenant = await ctx.storage.getTenant(admin.tenantId);
  if (!tenant) throw new CcError('internal', 'The admin token belongs to no tenant.');
  return tenant;
}

async function groupOf(ctx: CcContext, request: FastifyRequest, admin: AdminToken): Promise<Group> {
  const group = await ctx.storage.getGroup(readParam(request, 'groupId', groupIdParam));
  if (!group || group.tenantId !== admin.tenantId) throw new CcError('not-found', 'There is no group with that id.');
  return group;
}

async function view(ctx: CcContext, tenant: Tenant, group: Group | null) {
  const resolved = resolveSettings(tenant.overrides, group?.overrides ?? {});
  return {
    scope: group ? 'group' : 'tenant',
    tenantId: tenant.id,
    groupId: group?.id ?? null,
    name: group?.name ?? tenant.name,
    overrides: group?.overrides ?? tenant.overrides,
    effective: resolved.ok ? resolved.settings : {},
    revision: (await ctx.storage.revision()).revision,
  };
}

export const groupView = (group: Group) => ({
  groupId: group.id,
  name: group.name,
  isDefault: group.isDefault,
  workstations: group.workstations,
  overrides: group.overrides,
  createdAt: group.createdAt,
});

export function adminSettingsRoutes(app: FastifyInstance, ctx: CcContext): void {
  const change = async (request: FastifyRequest, admin: AdminCaller, tenant: Tenant, group: Group | null) => {
    const overrides = readOverrides(request);
    const groups = group ? [group] : await ctx.storage.listGroups(tenant.id);
    for (const g of groups) {
      const resolved = resolveSettings(group ? tenant.overrides : overrides, group ? overrides : g.overrides);
      if (!resolved.ok)
        throw new CcError('bad-request', `These settings would make group ${g.name} invalid: ${resolved.message}.`);
    }
    const result = await ctx.storage.setOverrides(
      { tenantId: tenant.id, ...(group ? { groupId: group.id } : {}) },
      overrides,
      ctx.now(),
      audit(ctx, {
        tenantId: tenant.id,
        actor: admin.actor,
        address: request.ip,
        action: 'settings.set',
        target: group?.id ?? tenant.id,
        result: 'ok',
        detail: { settings: JSON.stringify(overrides) },
      }),
    );
    if (!result.ok) throw new CcError('not-found', 'There is no such group.');
    ctx.bus.publish('policy');
  };

  adminRead(app, ctx, '/v1/admin/settings', async (admin) => view(ctx, await tenantOf(ctx, admin), null));

  app.put('/v1/admin/settings', async (request, reply) => {
    const admin = await authenticateAdmin(ctx, request);
    await change(request, admin, await tenantOf(ctx, admin), null);
    return reply.send(await view(ctx, await tenantOf(ctx, admin), null));
  });

  app.get('/v1/admin/groups/:groupId/settings', async (request, reply) => {
    const admin = await authenticateAdmin(ctx, request);
    return reply.send(await view(ctx, await tenantOf(ctx, admin), await groupOf(ctx, request, admin)));
  });

  app.put('/v1/admin/groups/:groupId/settings', async (request, reply) => {
    const admin = await authenticateAdmin(ctx, request);
    const group = await groupOf(ctx, request, admin);
    await change(request, admin, await tenantOf(ctx, admin), group);
    return reply.send(await view(ctx, await tenantOf(ctx, admin), (await ctx.storage.getGroup(group.id))!));
  });

  adminRead(app, ctx, '/v1/admin/groups', async (admin) => ({
    groups: (await ctx.storage.listGroups(admin.tenantId)).map(groupView),
  }));

  app.post('/v1/admin/groups', async (request, reply) => {
    const admin = await authenticateAdmin(ctx, request);
    const { name } = readBody(request, CreateGroupRequestSchema);
    const id = newId('g');
    const result = await ctx.storage.createGroup(
      { id, tenantId: admin.tenantId, name, now: ctx.now() },
      auditOk(ctx, admin, request, 'group.create', id, { name }),
    );
    if (!result.ok) throw new CcError('conflict', 'A group with that name already exists.');
    return reply.code(201).send(groupView(result.group));
  });

  app.delete('/v1/admin/groups/:groupId', async (request, reply) => {
    const admin = await authenticateAdmin(ctx, request);
    const id = readParam(request, 'groupId', groupIdParam);
    const result = await ctx.storage.deleteGroup(admin.tenantId, id, auditOk(ctx, admin, request, 'group.delete', id));
    if (!result.ok) {
      if (result.code === 'not-found') throw new CcError('not-found', 'There is no group with that id.');
      throw new CcError(
        'conflict',
        result.code === 'default-group'
          ? 'The default group cannot be deleted.'
          : 'The group still has workstations or install tokens; move or revoke them first.',
      );
    }
    return reply.send({ ok: true });
  });
}
