/**
 * Who is calling (docs/online-protocol.md "Request authentication"): workstations and phones
 * by signed requests (signature, 5-minute clock window, a nonce remembered in the database for
 * 10 minutes), admins by bearer tokens stored as SHA-256. Every refusal is a 401 that is
 * audited and counted against the source address and the credential it named; past either
 * failure budget the refusal is a 429 (logged once a window, not audited each time). Only
 * failures spend those budgets: a caller who proves who they are is never refused because of
 * them (docs/control-center.md "Limits and rate limits"). A key past its request budget gets 429.
 */
import type { FastifyRequest } from 'fastify';
import { fromBase64url } from '../../protocol/online/base64url.js';
import { isId } from '../../protocol/online/ids.js';
import { NONCE_MEMORY_MS, checkRequestSignature } from '../../protocol/online/request-signing.js';
import { CcError } from '../errors.js';
import { ADMIN_TOKEN_PATTERN, tokenDigest } from '../secrets.js';
import type { AdminToken, Device, Workstation } from '../storage/records.js';
import { rawBody } from './boundary.js';
import { csrfRefusal, sessionCookie } from './console-session.js';
import { audit, type CcContext } from './route-context.js';

/** An authenticated admin: the token, and who the audit names (`admin:at_…`, or `admin:at_…/cs_…` from a console session). */
export interface AdminCaller extends AdminToken {
  readonly actor: string;
  readonly sessionId: string | null;
}

/**
 * Counts a failed authentication against the source address and the credential it presented
 * (a key id, an admin token's digest, a console session); throws 429 past either budget.
 */
function spendFailure(ctx: CcContext, request: FastifyRequest, action: string, credential: string | null): void {
  const byAddress = ctx.limiters.failures.spend(`address:${request.ip}`);
  const byCredential = credential === null ? null : ctx.limiters.failures.spend(`credential:${credential}`);
  const limited = byAddress ?? byCredential;
  if (limited === null) return;
  if (limited.first)
    ctx.log.warn('auth.failure-budget', {
      address: request.ip,
      credential: byAddress === null ? credential : undefined,
      action,
    });
  throw limited.error;
}

/** A failed authentication: counted (429 past a budget), else audited and answered 401. */
async function refuse(
  ctx: CcContext,
  request: FastifyRequest,
  actor: string,
  tenantId: string | null,
  action: string,
  reason: string,
  credential: string | null = null,
): Promise<never> {
  spendFailure(ctx, request, action, credential);
  await ctx.storage.appendAudit(
    audit(ctx, {
      tenantId: tenantId ?? ctx.defaultTenantId,
      actor,
      address: request.ip,
      action,
      result: 'refused',
      detail: { reason },
    }),
  );
  throw new CcError('unauthenticated', `${reason.charAt(0).toUpperCase()}${reason.slice(1)}.`);
}

async function authenticateSigned<T extends Workstation | Device>(
  ctx: CcContext,
  request: FastifyRequest,
  kind: 'workstation' | 'device',
): Promise<T> {
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
  const named = typeof keyHeader === 'string' && (isId(keyHeader, 'ws') || isId(keyHeader, 'dev')) ? keyHeader : null;
  const actor = named !== null ? `${named.startsWith('ws_') ? 'workstation' : 'device'}:${named}` : 'anonymous';
  const found = caller as T | null;
  if (!check.ok || found === null) {
    const reason = check.ok
      ? 'unknown or revoked key'
      : check.message === 'unknown or revoked key'
        ? `unknown or revoked ${kind} key`
        : check.message;
    return refuse(ctx, request, actor, found?.tenantId ?? null, `${kind}.auth`, reason, named);
  }
  if (!(await ctx.storage.rememberNonce(check.keyId, check.nonce, now + NONCE_MEMORY_MS, now))) {
    return refuse(
      ctx,
      request,
      actor,
      found.tenantId,
      `${kind}.auth`,
      'this request was already received once (replayed Latchkey-Nonce)',
      named,
    );
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

/**
 * Admins by bearer token (`latchkey admin`) or by the console's session cookie (docs/console.md).
 * A request with an Authorization header is judged by it alone.
 */
export async function authenticateAdmin(ctx: CcContext, request: FastifyRequest): Promise<AdminCaller> {
  const header = request.headers.authorization;
  const cookie = header === undefined ? sessionCookie(request) : null;
  if (cookie !== null) return authenticateConsole(ctx, request, cookie);
  const token = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7).trim() : null;
  if (token === null)
    return refuseAdmin(ctx, request, 'admin requests need an Authorization: Bearer lk_admin_… header');
  const found = await findAdminToken(ctx, request, token);
  return { ...found, actor: `admin:${found.id}`, sessionId: null };
}

/** An admin request without a valid token: anonymous as far as the audit can tell. */
function refuseAdmin(
  ctx: CcContext,
  request: FastifyRequest,
  reason: string,
  credential: string | null = null,
): Promise<never> {
  return refuse(ctx, request, 'anonymous', null, 'admin.auth', reason, credential);
}

/** The admin token itself (bearer, or exchanged for a console session); refusals are audited and counted. */
export async function findAdminToken(ctx: CcContext, request: FastifyRequest, token: string): Promise<AdminToken> {
  if (!ADMIN_TOKEN_PATTERN.test(token)) return refuseAdmin(ctx, request, 'the admin token is malformed');
  const digest = await tokenDigest(token);
  const found = await ctx.storage.findAdminToken(digest);
  if (!found)
    return refuseAdmin(ctx, request, 'the admin token is not valid (unknown or revoked)', `admin-token:${digest}`);
  ctx.limiters.perKey.hit(found.id);
  return found;
}

async function authenticateConsole(ctx: CcContext, request: FastifyRequest, secret: string): Promise<AdminCaller> {
  const found = await ctx.consoleSessions.lookup(secret);
  if (!found.ok) {
    if (found.code === 'expired') {
      await ctx.storage.appendAudit(
        audit(ctx, {
          tenantId: found.session.token.tenantId,
          actor: `admin:${found.session.token.id}`,
          address: request.ip,
          action: 'console.expired',
          target: found.session.id,
          result: 'expired',
          detail: { reason: found.reason },
        }),
      );
    }
    throw new ConsoleSessionEnded(
      found.code === 'expired'
        ? 'Your console session expired; sign in again.'
        : 'Your console session has ended; sign in again.',
    );
  }
  const { session } = found;
  const token = await ctx.storage.findAdminToken(session.tokenSha256);
  if (!token) {
    ctx.consoleSessions.end(session.id);
    throw new ConsoleSessionEnded('Your console session has ended (its admin token was revoked); sign in again.');
  }
  const actor = `admin:${token.id}/${session.id}`;
  const refusal = csrfRefusal(request, session);
  if (refusal) {
    spendFailure(ctx, request, 'console.csrf', session.id);
    await ctx.storage.appendAudit(
      audit(ctx, {
        tenantId: token.tenantId,
        actor,
        address: request.ip,
        action: 'console.csrf',
        result: 'refused',
        detail: { reason: refusal.message },
      }),
    );
    throw refusal;
  }
  ctx.limiters.perKey.hit(token.id);
  return { ...token, actor, sessionId: session.id };
}

/** A 401 for a cookie that names no live session (the answer also clears the cookie: routes/console.ts). */
export class ConsoleSessionEnded extends CcError {
  constructor(message: string) {
    super('unauthenticated', message);
  }
}
