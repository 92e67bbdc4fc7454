/**
 * The web console (docs/console.md): its static files at `/` and `/assets/…`, read once at start
 * from what `npm run build` wrote to dist/console/, and the session routes — sign-in with an
 * admin token, the session's CSRF token for a reload, sign-out.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ConsoleSignInRequestSchema } from '../../admin-api.js';
import { authenticateAdmin, findAdminToken } from '../authenticate.js';
import { NoQuery, readBody, readQuery } from '../boundary.js';
import { CONSOLE_IDLE_MS, clearSessionCookie, sessionCookie, setSessionCookie } from '../console-session.js';
import type { ConsoleSession } from '../console-session.js';
import { audit, type CcContext, auditOk } from '../route-context.js';
import { tokenDigest } from '../../secrets.js';
import { CcError } from '../../errors.js';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

interface Asset {
  readonly type: string;
  readonly body: Buffer;
}

/** dist/console of this checkout, found from dist/control-center/http/routes (built) or control-center/http/routes (tests run the sources). */
export function findConsoleDir(): string | null {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'dist', 'console');
    if (existsSync(path.join(candidate, 'index.html'))) return candidate;
    if (path.dirname(dir) === dir) return null;
  }
}

/** Every file the build wrote, by URL path; nothing else is ever read from disk. */
function loadAssets(dir: string | null): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  if (dir === null) return assets;
  const add = (url: string, file: string) => {
    const type = TYPES[path.extname(file)];
    if (type) assets.set(url, { type, body: readFileSync(file) });
  };
  add('/', path.join(dir, 'index.html'));
  const assetDir = path.join(dir, 'assets');
  if (existsSync(assetDir)) for (const name of readdirSync(assetDir)) add(`/assets/${name}`, path.join(assetDir, name));
  return assets;
}

function sessionView(ctx: CcContext, session: ConsoleSession) {
  return {
    csrfToken: session.csrfToken,
    adminTokenId: session.token.id,
    adminTokenName: session.token.name,
    idleSeconds: CONSOLE_IDLE_MS / 1000,
    expiresAt: ctx.consoleSessions.expiresAt(session),
  };
}

export function consoleRoutes(
  app: FastifyInstance,
  ctx: CcContext,
  consoleDir: string | null = findConsoleDir(),
): void {
  const assets = loadAssets(consoleDir);
  const send = (reply: FastifyReply, asset: Asset, cache: string) =>
    reply.headers({ ...PAGE_HEADERS, 'content-type': asset.type, 'cache-control': cache }).send(asset.body);

  app.get('/', async (_request, reply) => {
    const page = assets.get('/');
    if (!page)
      throw new CcError('not-found', 'The web console is not built here; run npm run build (docs/console.md).');
    return send(reply, page, 'no-cache');
  });
  app.get('/assets/:name', async (request, reply) => {
    const asset = assets.get(request.url.split('?')[0]!);
    if (!asset) throw new CcError('not-found', `There is no GET ${request.url.split('?')[0]}.`);
    return send(reply, asset, 'public, max-age=31536000, immutable'); // names carry a content hash
  });

  // A cookie that names no live session is cleared with the 401 that says so.
  app.addHook('onSend', async (request, reply, payload) => {
    if (reply.statusCode === 401 && sessionCookie(request) !== null) clearSessionCookie(request, reply);
    return payload;
  });

  app.post('/v1/console/session', async (request, reply) => {
    const { adminToken } = readBody(request, ConsoleSignInRequestSchema);
    const token = await findAdminToken(ctx, request, adminToken);
    const created = await ctx.consoleSessions.create(token, await tokenDigest(adminToken));
    for (const old of created.ended) {
      await ctx.storage.appendAudit(
        audit(ctx, {
          tenantId: old.token.tenantId,
          actor: `admin:${old.token.id}`,
          address: request.ip,
          action: 'console.expired',
          target: old.id,
          result: 'expired',
          detail: { reason: 'too-many-sessions' },
        }),
      );
    }
    await ctx.storage.appendAudit(
      audit(ctx, {
        tenantId: token.tenantId,
        actor: `admin:${token.id}`,
        address: request.ip,
        action: 'console.sign-in',
        target: created.session.id,
        result: 'ok',
      }),
    );
    setSessionCookie(request, reply, created.secret);
    return reply.code(201).header('cache-control', 'no-store').send(sessionView(ctx, created.session));
  });

  app.get('/v1/console/session', async (request, reply) => {
    readQuery(request, NoQuery);
    // Every console load asks this first: no cookie yet is not a failed authentication.
    if (request.headers.authorization === undefined && sessionCookie(request) === null)
      throw new CcError('unauthenticated', 'Sign in with an admin token.');
    const admin = await authenticateAdmin(ctx, request);
    if (admin.sessionId === null)
      throw new CcError('bad-request', "This is the console's own session; admin tokens need none.");
    const session = ctx.consoleSessions.get(admin.sessionId)!;
    return reply.header('cache-control', 'no-store').send(sessionView(ctx, session));
  });

  app.delete('/v1/console/session', async (request, reply) => {
    const admin = await authenticateAdmin(ctx, request);
    if (admin.sessionId === null)
      throw new CcError('bad-request', "This is the console's own session; admin tokens need none.");
    ctx.consoleSessions.end(admin.sessionId);
    await ctx.storage.appendAudit(auditOk(ctx, admin, request, 'console.sign-out', admin.sessionId));
    clearSessionCookie(request, reply);
    return reply.send({ ok: true });
  });
}
