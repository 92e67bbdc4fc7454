/**
 * The two steps most admin routes begin with (docs/control-center.md "Admin API"): reading
 * what the admin's tenant holds, and ending one of its records named by the path's `:id`.
 * Each authenticates the admin first; what the route answers stays in the route.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type * as v from 'valibot';
import type { EndById, Outcome } from '../storage/storage.js';
import { type AdminCaller, authenticateAdmin } from './authenticate.js';
import { NoQuery, readParam, readQuery } from './boundary.js';
import { type CcContext, auditOk } from './route-context.js';

/** A GET that takes no query string: answers what `read` finds for the admin. */
export function adminRead(
  app: FastifyInstance,
  ctx: CcContext,
  path: string,
  read: (admin: AdminCaller) => Promise<unknown>,
): void {
  app.get(path, async (request, reply) => {
    const admin = await authenticateAdmin(ctx, request);
    readQuery(request, NoQuery);
    return reply.send(await read(admin));
  });
}

/**
 * Revoking or removing the record the path's `:id` names: `end` is the store's call, given the
 * admin's tenant, the id, the time and the audit entry of `action` on that id.
 */
export async function endById<T, C extends string>(
  ctx: CcContext,
  request: FastifyRequest,
  id: v.GenericSchema<string, string>,
  action: string,
  end: EndById<T, C>,
): Promise<Outcome<T, C>> {
  const admin = await authenticateAdmin(ctx, request);
  const target = readParam(request, 'id', id);
  return end(admin.tenantId, target, ctx.now(), auditOk(ctx, admin, request, action, target));
}
