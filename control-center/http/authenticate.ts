/**
 * Who is calling (docs/online-protocol.md "Request authentication"): workstations and phones
 * by signed requests (signature, 5-minute clock window, a nonce remembered in the database for
 * 10 minutes), admins by bearer tokens stored as SHA-256. Every refusal is a 401 that is
 * audited and counted against the source address; a key past its budget gets 429.
 */
import type { FastifyRequest } from 'fastify';
import { fromBase64url } from '../../protocol/online/base64url.js';
import { isId } from '../../protocol/online/ids.js';
import { NONCE_MEMORY_MS, checkRequestSignature } from '../../protocol/online/request-signing.js';
import { CcError } from '../errors.js';
import { ADMIN_TOKEN_PATTERN, tokenDigest } from '../secrets.js';
import type { AdminToken, Device, Workstation } from '../storage/records.js';
import { rawBody } from './boundary.js';
import { audit, type CcContext } from './context.js';

async function refuse(ctx: CcContext, request: FastifyRequest, actor: string, tenantId: string | null, action: string, reason: string): Promise<never> {
  await ctx.storage.appendAudit(audit(ctx, { tenantId: tenantId ?? ctx.defaultTenantId, actor, address: request.ip, action, result: 'refused', detail: { reason } }));
  ctx.limiters.failures.hit(request.ip);
  throw new CcError('unauthenticated', `${reason.charAt(0).toUpperCase()}${reason.slice(1)}.`);
}

async function authenticateSigned<T extends Workstation | Device>(ctx: CcContext, request: FastifyRequest, kind: 'workstation' | 'device'): Promise<T> {
  ctx.limiters.failures.check(request.ip);
  let caller: T | null = null;
  const now = ctx.now();
  const check = await checkRequestSignature(
    { method: request.method, path: request.url, body: rawBody(request) },
    request.headers,
    async (keyId) => {
      if (kind === 'workstation' && isId(keyId, 'ws')) {
        const workstation = await ctx.storage.getWorkstation(keyId);
        if (workstation && workstation.removedAt === null) caller = workstation as T;
      } else if (kind === 'device' && isId(keyId, 'dev')) {
        const device = await ctx.storage.getDevice(keyId);
        if (device && device.revokedAt === null) caller = device as T;
      }
      if (caller === null) return null;
      return fromBase64url(kind === 'workstation' ? (caller as Workstation).publicKey : (caller as Device).signingKey);
    },
    now,
  );
  const keyHeader = request.headers['latchkey-key-id'];
  const actor = typeof keyHeader === 'string' && (isId(keyHeader, 'ws') || isId(keyHeader, 'dev')) ? `${keyHeader.startsWith('ws_') ? 'workstation' : 'device'}:${keyHeader}` : 'anonymous';
  const found = caller as T | null;
  if (!check.ok || found === null) {
    const reason = check.ok ? 'unknown or revoked key' : check.message === 'unknown or revoked key' ? `unknown or revoked ${kind} key` : check.message;
    return refuse(ctx, request, actor, found?.tenantId ?? null, `${kind}.auth`, reason);
  }
  if (!(await ctx.storage.rememberNonce(check.keyId, check.nonce, now + NONCE_MEMORY_MS, now))) {
    return refuse(ctx, request, actor, found.tenantId, `${kind}.auth`, 'this request was already received once (replayed Latchkey-Nonce)');
  }
  ctx.limiters.perKey.hit(check.keyId);
  return found;
}

export function authenticateWorkstation(ctx: CcContext, request: FastifyRequest): Promise<Workstation> {
  return authenticateSigned<Workstation>(ctx, request, 'workstation');
}

export function authenticateDevice(ctx: CcContext, request: FastifyRequest): Promise<Device> {
  return authenticateSigned<Device>(ctx, request, 'device');
}

export async function authenticateAdmin(ctx: CcContext, request: FastifyRequest): Promise<AdminToken> {
  ctx.limiters.failures.check(request.ip);
  const header = request.headers.authorization;
  const token = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7).trim() : null;
  if (token === null) return refuse(ctx, request, 'anonymous', null, 'admin.auth', 'admin requests need an Authorization: Bearer lk_admin_… header');
  if (!ADMIN_TOKEN_PATTERN.test(token)) return refuse(ctx, request, 'anonymous', null, 'admin.auth', 'the admin token is malformed');
  const found = await ctx.storage.findAdminToken(await tokenDigest(token));
  if (!found) return refuse(ctx, request, 'anonymous', null, 'admin.auth', 'the admin token is not valid (unknown or revoked)');
  ctx.limiters.perKey.hit(found.id);
  return found;
}
