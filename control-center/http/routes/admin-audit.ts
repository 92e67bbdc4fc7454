/**
 * Admin: the audit log and agents' events (paged, newest first), admin tokens (a new one shown
 * once; the last one cannot be revoked), and revealing a recovery PIN — the one place the CC
 * opens a box sealed to it, audited, and only while the setting is on.
 */
import type { FastifyInstance } from 'fastify';
import * as v from 'valibot';
import { fromBase64url } from '../../../protocol/online/base64url.js';
import { idPattern, newId } from '../../../protocol/online/ids.js';
import { idSchema, RevealRecoveryPinRequestSchema } from '../../../protocol/online/http-bodies.js';
import { openFrom } from '../../../protocol/online/sealed-box.js';
import { CreateAdminTokenRequestSchema, EVENT_TYPES } from '../../admin-api.js';
import { CcError } from '../../errors.js';
import { settingsFor } from '../../policy.js';
import { newAdminToken, tokenDigest } from '../../secrets.js';
import type { AdminToken } from '../../storage/records.js';
import { adminRead, endById } from '../admin-route.js';
import { authenticateAdmin } from '../authenticate.js';
import { queryInteger, readBody, readQuery } from '../boundary.js';
import { audit, type CcContext, auditOk } from '../route-context.js';

export const RECOVERY_PIN_LABEL = 'latchkey-recovery-pin-v1';
const RECOVERY_PIN_PATTERN = /^[0-9A-HJKMNP-TV-Z]{12}$/;

const AuditQuery = v.strictObject({
  before: v.optional(queryInteger(1, Number.MAX_SAFE_INTEGER, 1)),
  limit: queryInteger(1, 1000, 100),
});
const queryMillis = v.optional(
  v.pipe(v.string(), v.regex(/^\d{1,15}$/, 'must be a time in milliseconds since 1970'), v.transform(Number)),
);
const EventsQuery = v.strictObject({
  workstationId: v.optional(idSchema('ws')),
  user: v.optional(
    v.pipe(v.string(), v.minLength(1, 'must not be empty'), v.maxLength(256, 'must be at most 256 characters')),
  ),
  type: v.optional(
    v.pipe(
      v.string(),
      v.transform((list) => list.split(',')),
      v.check(
        (types) => types.every((t) => (EVENT_TYPES as readonly string[]).includes(t)),
        `must be a comma-separated list of ${EVENT_TYPES.join(', ')}`,
      ),
    ),
  ),
  since: queryMillis,
  until: queryMillis,
  before: v.optional(queryInteger(1, Number.MAX_SAFE_INTEGER, 1)),
  limit: queryInteger(1, 1000, 100),
});
const adminTokenIdParam = v.pipe(v.string(), v.regex(idPattern('at'), 'must be an at_ id'));
const adminTokenView = (t: AdminToken) => ({
  adminTokenId: t.id,
  name: t.name,
  createdAt: t.createdAt,
  revokedAt: t.revokedAt,
});

/** aad = workstationId ‖ 0x00 ‖ user (docs/online-protocol.md "Recovery PIN"). */
export function recoveryPinAad(workstationId: string, user: string): Uint8Array {
  return new TextEncoder().encode(`${workstationId}\u0000${user}`);
}

export function adminAuditRoutes(app: FastifyInstance, ctx: CcContext): void {
  app.get('/v1/admin/audit', async (request, reply) => {
    const admin = await authenticateAdmin(ctx, request);
    const query = readQuery(request, AuditQuery);
    const page = await ctx.storage.listAudit(admin.tenantId, query);
    return reply.send({ entries: page.items.map(({ tenantId: _tenant, ...entry }) => entry), next: page.next });
  });

  app.get('/v1/admin/events', async (request, reply) => {
    const admin = await authenticateAdmin(ctx, request);
    const { type, ...query } = readQuery(request, EventsQuery);
    const page = await ctx.storage.listEvents(admin.tenantId, { ...query, ...(type ? { types: type } : {}) });
    return reply.send({ events: page.items, next: page.next });
  });

  adminRead(app, ctx, '/v1/admin/admin-tokens', async (admin) => ({
    adminTokens: (await ctx.storage.listAdminTokens(admin.tenantId)).map(adminTokenView),
  }));

  app.post('/v1/admin/admin-tokens', async (request, reply) => {
    const admin = await authenticateAdmin(ctx, request);
    const { name } = readBody(request, CreateAdminTokenRequestSchema);
    const token = newAdminToken();
    const id = newId('at');
    const created = await ctx.storage.createAdminToken(
      { id, tenantId: admin.tenantId, name, sha256: await tokenDigest(token), now: ctx.now() },
      auditOk(ctx, admin, request, 'admin-token.create', id, { name }),
    );
    return reply.code(201).send({ ...adminTokenView(created), token });
  });

  app.delete('/v1/admin/admin-tokens/:id', async (request, reply) => {
    const result = await endById(ctx, request, adminTokenIdParam, 'admin-token.revoke', (...end) =>
      ctx.storage.revokeAdminToken(...end),
    );
    if (!result.ok) {
      throw result.code === 'last-token'
        ? new CcError('conflict', 'This is the last active admin token; create another one first.')
        : new CcError('not-found', 'There is no active admin token with that id.');
    }
    return reply.send(adminTokenView(result.token));
  });

  app.post('/v1/admin/recovery-pins/reveal', async (request, reply) => {
    const admin = await authenticateAdmin(ctx, request);
    const { workstationId, user } = readBody(request, RevealRecoveryPinRequestSchema);
    const note = (result: string) =>
      audit(ctx, {
        tenantId: admin.tenantId,
        actor: admin.actor,
        address: request.ip,
        action: 'recovery-pin.reveal',
        target: workstationId,
        result,
        detail: { user },
      });
    const refuse = async (result: string, error: CcError): Promise<never> => {
      await ctx.storage.appendAudit(note(result));
      throw error;
    };
    const workstation = await ctx.storage.getWorkstation(workstationId);
    if (!workstation || workstation.tenantId !== admin.tenantId || workstation.removedAt !== null)
      return refuse('not-found', new CcError('not-found', 'There is no workstation with that id.'));
    if (!(await settingsFor(ctx.storage, workstation)).recoveryPin)
      return refuse('off', new CcError('forbidden', 'Recovery PINs are turned off for this workstation.'));
    const box = await ctx.storage.getRecoveryPin(workstationId, user);
    if (!box)
      return refuse(
        'none',
        new CcError(
          'not-found',
          'This workstation has not uploaded a recovery PIN for that user yet; it does when it is next online.',
        ),
      );
    const plaintext = await openFrom(
      ctx.keys.boxKey,
      ctx.keys.boxPublic,
      { eph: fromBase64url(box.eph), nonce: fromBase64url(box.nonce), ciphertext: fromBase64url(box.ciphertext) },
      recoveryPinAad(workstationId, user),
      RECOVERY_PIN_LABEL,
    );
    const pin = plaintext === null ? null : new TextDecoder().decode(plaintext);
    plaintext?.fill(0);
    if (pin === null || !RECOVERY_PIN_PATTERN.test(pin))
      return refuse(
        'unopenable',
        new CcError(
          'conflict',
          "The stored recovery PIN does not open with this Control Center's key; the workstation uploads a new one when next online.",
        ),
      );
    await ctx.storage.markRecoveryPinRevealed(workstationId, user, ctx.now(), note('revealed'));
    return reply.send({ pin });
  });
}
