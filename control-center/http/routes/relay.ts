/**
 * What the CC relays or keeps sealed (docs/online-protocol.md "Replenishment", "Events",
 * "Recovery PIN"): pool envelopes from workstation to phone (idempotent by id, newest
 * supersedes), the phone's signed confirmation back, agents' events (deduplicated by id), and
 * recovery PINs sealed to the CC's box key.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import * as v from 'valibot';
import { checkPoolConfirm } from '../../../protocol/online/approvals.js';
import { fromBase64url } from '../../../protocol/online/base64url.js';
import { canonicalJson } from '../../../protocol/online/canonical-json.js';
import { idPattern } from '../../../protocol/online/ids.js';
import { ConfirmPoolRequestSchema, PostEventsRequestSchema } from '../../../protocol/online/http-bodies.js';
import { PutPoolDeliveryRequestSchema, PutRecoveryPinRequestSchema } from '../../../protocol/online/http-bodies.js';
import { RevealRecoveryPinRequestSchema } from '../../../protocol/online/http-bodies.js';
import { CcError } from '../../errors.js';
import { settingsFor } from '../../policy.js';
import type { PoolDelivery } from '../../storage/records.js';
import { authenticateDevice, authenticateWorkstation } from '../authenticate.js';
import { readBody, readParam, readQuery, WaitQuery } from '../boundary.js';
import { type CcContext, auditOk, deviceActor, workstationActor } from '../route-context.js';
import { longPoll } from '../long-poll.js';

const deliveryIdParam = v.pipe(v.string(), v.regex(idPattern('pd'), 'must be a pd_ id'));
const userParam = RevealRecoveryPinRequestSchema.entries.user;
const SUPERSEDED = new CcError('gone', 'A newer pool delivery for the same user and phone replaced this one.');

export function deliveryStatus(delivery: PoolDelivery) {
  if (delivery.state === 'superseded') throw SUPERSEDED;
  if (delivery.confirmation)
    return {
      status: 'confirmed',
      poolId: delivery.confirmation.poolId,
      signature: delivery.confirmation.signature,
    } as const;
  return { status: 'pending' } as const;
}

function decodedLength(text: string, field: string): number {
  try {
    return fromBase64url(text).length;
  } catch {
    throw new CcError('bad-request', `${field} is not base64url.`);
  }
}

async function deliveryParam(
  ctx: CcContext,
  request: FastifyRequest,
): Promise<{ id: string; delivery: PoolDelivery | null }> {
  const id = readParam(request, 'deliveryId', deliveryIdParam);
  return { id, delivery: await ctx.storage.getPoolDelivery(id) };
}

export function relayRoutes(app: FastifyInstance, ctx: CcContext): void {
  app.put('/v1/workstation/pool-deliveries/:deliveryId', async (request, reply) => {
    const workstation = await authenticateWorkstation(ctx, request);
    const id = readParam(request, 'deliveryId', deliveryIdParam);
    const body = readBody(request, PutPoolDeliveryRequestSchema);
    const { envelope } = body;
    if (envelope.deliveryId !== id)
      throw new CcError('bad-request', 'envelope.deliveryId must equal the deliveryId in the path.');
    if (envelope.deviceId !== body.deviceId || envelope.user !== body.user)
      throw new CcError('bad-request', 'envelope.deviceId and envelope.user must equal deviceId and user.');
    if (!(await ctx.storage.isBound(body.deviceId, workstation.id, body.user)))
      throw new CcError('not-found', 'That phone is not paired for this user on this workstation.');
    const result = await ctx.storage.putPoolDelivery(
      {
        id,
        workstationId: workstation.id,
        user: body.user,
        deviceId: body.deviceId,
        body: canonicalJson(body as never),
        createdAt: ctx.now(),
      },
      auditOk(ctx, workstationActor(workstation), request, 'pool-delivery.put', id, {
        user: body.user,
        deviceId: body.deviceId,
      }),
    );
    if (!result.ok) throw new CcError('conflict', 'A different pool delivery already has this id.');
    if (result.created) ctx.bus.publish(`device:${body.deviceId}`);
    return reply.code(result.created ? 201 : 200).send(deliveryStatus(result.delivery));
  });

  app.get('/v1/workstation/pool-deliveries/:deliveryId', async (request, reply) => {
    const workstation = await authenticateWorkstation(ctx, request);
    const { id, delivery } = await deliveryParam(ctx, request);
    const { wait } = readQuery(request, WaitQuery);
    if (!delivery || delivery.workstationId !== workstation.id)
      throw new CcError('not-found', 'This workstation has no pool delivery with that id.');
    const current = await longPoll(ctx, reply, [id], wait, async () => {
      const value = (await ctx.storage.getPoolDelivery(id)) ?? delivery;
      return { value, final: value.state !== 'pending' };
    });
    return reply.send(deliveryStatus(current));
  });

  app.post('/v1/device/pool-deliveries/:deliveryId/confirm', async (request, reply) => {
    const device = await authenticateDevice(ctx, request);
    const { id, delivery } = await deliveryParam(ctx, request);
    const body = readBody(request, ConfirmPoolRequestSchema);
    if (!delivery || delivery.deviceId !== device.id)
      throw new CcError('not-found', 'This phone has no pool delivery with that id.');
    if (delivery.state === 'superseded') throw SUPERSEDED;
    const fields = {
      deliveryId: id,
      poolId: body.poolId,
      deviceId: device.id,
      workstationId: delivery.workstationId,
      user: delivery.user,
    };
    if (!(await checkPoolConfirm(fields, body.signature, fromBase64url(device.signingKey)))) {
      throw new CcError(
        'bad-request',
        "signature does not verify with this phone's key over latchkey-pool-confirm-v1.",
      );
    }
    const result = await ctx.storage.confirmPoolDelivery(
      id,
      body,
      ctx.now(),
      auditOk(ctx, deviceActor(device), request, 'pool-delivery.confirm', id, {
        workstationId: delivery.workstationId,
        user: delivery.user,
      }),
    );
    if (!result.ok)
      throw result.code === 'superseded'
        ? SUPERSEDED
        : new CcError('conflict', 'This pool delivery was already confirmed differently.');
    if (result.created) ctx.bus.publish(id);
    return reply.send(deliveryStatus(result.delivery));
  });

  app.post('/v1/workstation/events', async (request, reply) => {
    const workstation = await authenticateWorkstation(ctx, request);
    const { events } = readBody(request, PostEventsRequestSchema);
    return reply.send(await ctx.storage.addEvents(workstation.id, events, ctx.now()));
  });

  app.put('/v1/workstation/recovery-pins/:user', async (request, reply) => {
    const workstation = await authenticateWorkstation(ctx, request);
    const user = readParam(request, 'user', userParam);
    const body = readBody(request, PutRecoveryPinRequestSchema);
    if (decodedLength(body.nonce, 'nonce') !== 12) throw new CcError('bad-request', 'nonce must be 12 bytes.');
    if (decodedLength(body.eph, 'eph') !== 32) throw new CcError('bad-request', 'eph must be 32 bytes.');
    if (decodedLength(body.ciphertext, 'ciphertext') < 16)
      throw new CcError('bad-request', 'ciphertext is shorter than its 16-byte tag.');
    if (!(await settingsFor(ctx.storage, workstation)).recoveryPin)
      throw new CcError('conflict', 'Recovery PINs are turned off for this workstation.');
    const storedAt = ctx.now();
    await ctx.storage.putRecoveryPin(
      { workstationId: workstation.id, user, eph: body.eph, nonce: body.nonce, ciphertext: body.ciphertext, storedAt },
      auditOk(ctx, workstationActor(workstation), request, 'recovery-pin.upload', workstation.id, { user }),
    );
    return reply.send({ storedAt });
  });
}
