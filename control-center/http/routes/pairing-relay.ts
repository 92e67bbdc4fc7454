/**
 * Pairing a phone to (user, workstation) (docs/online-protocol.md "Pairing"): the workstation
 * opens a pairing and uploads its MAC, the phone redeems it (unsigned, with a proof of its new
 * key; rate-limited per address and burnt after 5 failed tries), the workstation confirms.
 * The CC never sees the pairing secret, so it relays MACs it cannot check.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import * as v from 'valibot';
import { newId } from '../../../protocol/online/ids.js';
import { ConfirmPairingRequestSchema, CreatePairingRequestSchema } from '../../../protocol/online/http-bodies.js';
import { PAIRING_ID_PATTERN, PutWorkstationMacRequestSchema } from '../../../protocol/online/http-bodies.js';
import { RedeemPairingRequestSchema } from '../../../protocol/online/http-bodies.js';
import { checkDeviceProof, newPairingId } from '../../../protocol/online/pairing-keys.js';
import { CcError } from '../../errors.js';
import type { Pairing, Workstation } from '../../storage/records.js';
import { authenticateWorkstation } from '../authenticate.js';
import { readBody, readParam, readQuery, WaitQuery } from '../boundary.js';
import { audit, type CcContext, auditOk, workstationActor } from '../route-context.js';
import { longPoll } from '../long-poll.js';

export const PAIRING_TTL_MS = 10 * 60_000;
export const PAIRING_MAX_TRIES = 5;
const pairingIdParam = v.pipe(v.string(), v.regex(PAIRING_ID_PATTERN, 'must be 5 Crockford symbols'));
const GONE = new CcError(
  'gone',
  'This pairing code has expired, was already used, or was burnt after too many tries; start a new pairing on the workstation.',
);

export function pairingStatus(pairing: Pairing, now: number) {
  const live = now < pairing.expiresAt;
  if (pairing.state === 'open')
    return live ? ({ status: 'pending', expiresAt: pairing.expiresAt } as const) : ({ status: 'expired' } as const);
  if (pairing.state === 'redeemed') {
    if (!live) return { status: 'expired' } as const;
    const { deviceId, signingKey, boxKey, name, credentialKey, deviceMac } = pairing.redemption!;
    const device = { deviceId, signingKey, boxKey, name, ...(credentialKey ? { credentialKey } : {}), deviceMac };
    return { status: 'redeemed', device } as const;
  }
  return { status: pairing.state } as const;
}

async function ownPairing(ctx: CcContext, request: FastifyRequest, workstation: Workstation): Promise<Pairing> {
  const pairing = await ctx.storage.getPairing(readParam(request, 'pairingId', pairingIdParam));
  if (!pairing || pairing.workstationId !== workstation.id)
    throw new CcError('not-found', 'This workstation has no pairing with that id.');
  return pairing;
}

export function pairingRoutes(app: FastifyInstance, ctx: CcContext): void {
  app.post('/v1/workstation/pairings', async (request, reply) => {
    const workstation = await authenticateWorkstation(ctx, request);
    const { user } = readBody(request, CreatePairingRequestSchema);
    for (let attempt = 0; attempt < 8; attempt++) {
      const now = ctx.now();
      const id = newPairingId();
      const created = await ctx.storage.createPairing(
        {
          id,
          workstationId: workstation.id,
          tenantId: workstation.tenantId,
          user,
          now,
          expiresAt: now + PAIRING_TTL_MS,
        },
        auditOk(ctx, workstationActor(workstation), request, 'pairing.create', id, { user }),
      );
      if (created.ok) return reply.code(201).send({ pairingId: id, expiresAt: created.pairing.expiresAt });
    }
    throw new CcError('internal', 'No free pairing id was found; try again.');
  });

  app.put('/v1/workstation/pairings/:pairingId', async (request, reply) => {
    const workstation = await authenticateWorkstation(ctx, request);
    const pairing = await ownPairing(ctx, request, workstation);
    const { workstationMac } = readBody(request, PutWorkstationMacRequestSchema);
    if (pairing.workstationMac === workstationMac) return reply.send(pairingStatus(pairing, ctx.now()));
    const result = await ctx.storage.setWorkstationMac(pairing.id, workstationMac, ctx.now());
    if (!result.ok)
      throw result.code === 'not-open'
        ? GONE
        : new CcError('conflict', 'This pairing already has a different workstation MAC.');
    return reply.send(pairingStatus(result.pairing, ctx.now()));
  });

  app.get('/v1/workstation/pairings/:pairingId', async (request, reply) => {
    const workstation = await authenticateWorkstation(ctx, request);
    const pairing = await ownPairing(ctx, request, workstation);
    const { wait } = readQuery(request, WaitQuery);
    const status = await longPoll(ctx, reply, [pairing.id], wait, async () => {
      const current = (await ctx.storage.getPairing(pairing.id)) ?? pairing;
      const value = pairingStatus(current, ctx.now());
      return { value, final: value.status !== 'pending', wakeAt: current.expiresAt };
    });
    return reply.send(status);
  });

  app.post('/v1/workstation/pairings/:pairingId/confirm', async (request, reply) => {
    const workstation = await authenticateWorkstation(ctx, request);
    const pairing = await ownPairing(ctx, request, workstation);
    const { accept } = readBody(request, ConfirmPairingRequestSchema);
    const wanted = accept ? 'confirmed' : 'rejected';
    if (pairing.state === 'confirmed' || pairing.state === 'rejected') {
      if (pairing.state === wanted) return reply.send({ status: wanted });
      throw new CcError('conflict', `This pairing was already ${pairing.state}.`);
    }
    if (pairing.state === 'open' && ctx.now() < pairing.expiresAt)
      throw new CcError('conflict', 'No phone has redeemed this pairing yet.');
    const result = await ctx.storage.confirmPairing(
      pairing.id,
      accept,
      ctx.now(),
      audit(ctx, {
        tenantId: workstation.tenantId,
        actor: `workstation:${workstation.id}`,
        address: request.ip,
        action: 'pairing.confirm',
        target: pairing.id,
        result: wanted,
        detail: { user: pairing.user, deviceId: pairing.redemption?.deviceId ?? null },
      }),
    );
    if (!result.ok) throw GONE;
    ctx.bus.publish(pairing.id, `device:${pairing.redemption!.deviceId}`);
    return reply.send({ status: wanted });
  });

  app.post('/v1/devices/pair', async (request, reply) => {
    ctx.limiters.redeem.hit(request.ip);
    const body = readBody(request, RedeemPairingRequestSchema);
    const now = ctx.now();
    const pairing = await ctx.storage.getPairing(body.pairingId);
    const address = request.ip;
    const note = (tenantId: string, result: string, detail: Record<string, string | number | boolean | null> = {}) =>
      audit(ctx, {
        tenantId,
        actor: 'anonymous',
        address,
        action: 'pairing.redeem',
        target: body.pairingId,
        result,
        detail,
      });
    if (!pairing) {
      await ctx.storage.appendAudit(note(ctx.defaultTenantId, 'unknown-pairing'));
      throw new CcError('not-found', 'No pairing has this code; check the code on the workstation screen.');
    }
    const workstation = await ctx.storage.getWorkstation(pairing.workstationId);
    if (pairing.state !== 'open' || now >= pairing.expiresAt || !workstation || workstation.removedAt !== null) {
      await ctx.storage.appendAudit(note(pairing.tenantId, 'gone', { state: pairing.state }));
      throw GONE;
    }
    const failedTry = async (reason: string, error: CcError): Promise<never> => {
      const counted = await ctx.storage.countPairingTry(
        pairing.id,
        PAIRING_MAX_TRIES,
        now,
        note(pairing.tenantId, 'refused', { reason }),
      );
      if (counted.burnt) ctx.bus.publish(pairing.id);
      throw counted.burnt
        ? new CcError(error.code, `${error.message} The pairing is now burnt; start a new one on the workstation.`)
        : error;
    };
    const keys = {
      pairingId: body.pairingId,
      signingKey: body.signingKey,
      boxKey: body.boxKey,
      name: body.name,
      ...(body.credentialKey === undefined ? {} : { credentialKey: body.credentialKey }),
    };
    if (!(await checkDeviceProof(keys, body.proof)))
      return failedTry(
        'proof',
        new CcError('unauthenticated', 'proof does not verify with signingKey (latchkey-device-proof-v1).'),
      );
    const redeemed = await ctx.storage.redeemPairing(
      pairing.id,
      {
        signingKey: body.signingKey,
        boxKey: body.boxKey,
        name: body.name,
        ...(body.credentialKey === undefined ? {} : { credentialKey: body.credentialKey }),
        deviceMac: body.deviceMac,
        newDeviceId: newId('dev'),
      },
      now,
      (deviceId) =>
        note(pairing.tenantId, 'redeemed', { deviceId, user: pairing.user, workstationId: pairing.workstationId }),
    );
    if (!redeemed.ok) {
      switch (redeemed.code) {
        case 'no-mac':
          return failedTry(
            'no-mac',
            new CcError('conflict', 'The workstation has not finished opening this pairing; try again in a moment.'),
          );
        case 'revoked-device':
          return failedTry(
            'revoked-device',
            new CcError('forbidden', 'This phone key was revoked by an administrator; reset the phone and pair again.'),
          );
        case 'key-mismatch':
          return failedTry(
            'key-mismatch',
            new CcError('conflict', 'This signing key is registered with a different box key.'),
          );
        default:
          throw GONE;
      }
    }
    ctx.bus.publish(pairing.id);
    return reply.send({
      deviceId: redeemed.device.id,
      workstationId: workstation.id,
      workstationName: workstation.name,
      workstationKey: workstation.publicKey,
      user: pairing.user,
      ccKey: ctx.keys.ccKey,
      workstationMac: redeemed.pairing.workstationMac!,
    });
  });
}
