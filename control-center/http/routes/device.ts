/**
 * A phone's own views (docs/online-protocol.md "Online sign-in", "Replenishment", "Pairing"):
 * its inbox (auth requests for the (workstation, user) pairs it is bound to, and pool
 * deliveries addressed to it), long-polled, and the workstations it is paired with together
 * with the settings in force there (R1, R8).
 */
import type { FastifyInstance } from 'fastify';
import { settingsFor } from '../../policy.js';
import { authenticateDevice } from '../authenticate.js';
import type { InboxAuthRequest, PoolDelivery } from '../../storage/records.js';
import { NoQuery, readQuery } from '../boundary.js';
import { inboxRoute } from '../long-poll.js';
import type { CcContext } from '../route-context.js';

const inboxAuthRequest = (r: InboxAuthRequest) => ({
  requestId: r.id,
  workstationId: r.workstationId,
  workstationName: r.workstationName,
  user: r.user,
  challenge: r.challenge,
  createdAt: r.createdAt,
  expiresAt: r.expiresAt,
  intentId: r.intentId,
  ...(r.credential === null ? {} : { credential: r.credential }),
});
const inboxPoolDelivery = (d: PoolDelivery) => ({
  deliveryId: d.id,
  workstationId: d.workstationId,
  user: d.user,
  envelope: (JSON.parse(d.body) as { envelope: unknown }).envelope,
});

export function deviceRoutes(app: FastifyInstance, ctx: CcContext): void {
  inboxRoute(app, ctx, 'device', async (device) => {
    const [requests, deliveries] = await Promise.all([
      ctx.storage.pendingAuthRequestsForDevice(device.id, ctx.now()),
      ctx.storage.pendingPoolDeliveriesForDevice(device.id),
    ]);
    return { authRequests: requests.map(inboxAuthRequest), poolDeliveries: deliveries.map(inboxPoolDelivery) };
  });

  app.get('/v1/device/workstations', async (request, reply) => {
    const device = await authenticateDevice(ctx, request);
    readQuery(request, NoQuery);
    const workstations = [];
    for (const binding of await ctx.storage.bindingsOfDevice(device.id)) {
      const workstation = await ctx.storage.getWorkstation(binding.workstationId);
      if (!workstation || workstation.removedAt !== null) continue;
      workstations.push({
        workstationId: workstation.id,
        workstationName: workstation.name,
        user: binding.user,
        settings: await settingsFor(ctx.storage, workstation),
      });
    }
    return reply.send({ workstations });
  });
}
