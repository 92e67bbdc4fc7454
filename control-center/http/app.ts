/**
 * The Fastify application: the boundary (raw bodies ≤ 64 KiB, one error shape), one register
 * call per group of routes, and a debug line per request that names the route, never a body,
 * header or token.
 */
import type { FastifyInstance } from 'fastify';
import { requireCjs } from '../../platform/load-cjs.js';
import { MAX_BODY_BYTES } from '../../protocol/online/http-bodies.js';
import { installBoundary } from './boundary.js';
import type { CcContext } from './route-context.js';
import { adminAuditRoutes } from './routes/admin-audit.js';
import { adminFleetRoutes } from './routes/admin-fleet.js';
import { adminSettingsRoutes } from './routes/admin-settings.js';
import { adminWorkstationRoutes } from './routes/admin-workstations.js';
import { consoleRoutes } from './routes/console.js';
import { deviceRoutes } from './routes/device.js';
import { enrollmentRoutes } from './routes/enrollment.js';
import { pairingRoutes } from './routes/pairing-relay.js';
import { relayRoutes } from './routes/relay.js';
import { signInRoutes } from './routes/sign-in.js';

const fastify = requireCjs('fastify') as typeof import('fastify').default;

export interface AppOptions {
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
  /** Proxies whose X-Forwarded-For is believed (docs/control-center.md "TLS and reverse proxies"). */
  readonly trustProxy?: readonly string[];
}

export function buildApp(ctx: CcContext, options: AppOptions = {}): FastifyInstance {
  const app = fastify({
    logger: false,
    bodyLimit: MAX_BODY_BYTES,
    trustProxy: options.trustProxy && options.trustProxy.length > 0 ? [...options.trustProxy] : false,
    requestTimeout: 60_000,
    keepAliveTimeout: 72_000,
    return503OnClosing: false, // answered below, in the error shape of the contract
    ...(options.tls ? { https: { cert: options.tls.cert, key: options.tls.key } } : {}),
  }) as unknown as FastifyInstance;
  installBoundary(app, ctx.log);
  app.addHook('onRequest', async (_request, reply) => {
    if (ctx.bus.closed)
      return reply
        .code(503)
        .header('retry-after', '5')
        .send({ error: { code: 'internal', message: 'The Control Center is stopping; try again in a moment.' } });
  });
  // Once stopping, every answer closes its connection, so no keep-alive socket holds the close for keepAliveTimeout.
  app.addHook('onSend', async (_request, reply, payload) => {
    if (ctx.bus.closed) void reply.header('connection', 'close');
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    ctx.log.debug('control-center.request', {
      method: request.method,
      route: request.routeOptions.url ?? 'none',
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime),
    });
  });
  for (const register of [
    enrollmentRoutes,
    pairingRoutes,
    signInRoutes,
    deviceRoutes,
    relayRoutes,
    adminSettingsRoutes,
    adminFleetRoutes,
    adminWorkstationRoutes,
    adminAuditRoutes,
    consoleRoutes,
  ])
    register(app, ctx);
  return app;
}
