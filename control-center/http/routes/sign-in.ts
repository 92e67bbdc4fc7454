/**
 * Online sign-in (docs/online-protocol.md "Online sign-in"): the workstation posts an auth
 * request, bound phones see it in their inbox and post a signed decision, the workstation
 * long-polls the outcome. Phone-initiated sign-ins arrive as intents in the workstation inbox.
 * The CC checks the approval signature too, but the agent's own check is the one that counts.
 */
import type { FastifyInstance } from 'fastify';
import * as v from 'valibot';
import { checkApproval } from '../../../protocol/online/approvals.js';
import { fromBase64url } from '../../../protocol/online/base64url.js';
import { idPattern, newId } from '../../../protocol/online/ids.js';
import { CreateAuthRequestSchema, DecisionRequestSchema } from '../../../protocol/online/http-bodies.js';
import { SignInIntentRequestSchema } from '../../../protocol/online/http-bodies.js';
import { CcError } from '../../errors.js';
import type { AuthRequest, Decision } from '../../storage/records.js';
import { authenticateDevice, authenticateWorkstation } from '../authenticate.js';
import { readBody, readParam, readQuery, WaitQuery } from '../boundary.js';
import { type CcContext, auditOk, auditResult, deviceActor, workstationActor } from '../route-context.js';
import { inboxRoute, longPoll } from '../long-poll.js';

export const INTENT_TTL_MS = 30_000;
const requestIdParam = v.pipe(v.string(), v.regex(idPattern('ar'), 'must be an ar_ id'));

export function authStatus(request: AuthRequest, now: number) {
  const d = request.decision;
  if (d)
    return {
      status: d.decision === 'approve' ? 'approved' : 'denied',
      deviceId: d.deviceId,
      decision: d.decision,
      signedAt: d.signedAt,
      signature: d.signature,
      ...(d.release === undefined ? {} : { release: d.release }),
    } as const;
  return { status: now < request.expiresAt ? 'pending' : 'expired' } as const;
}

const sameRelease = (a: Decision['release'], b: Decision['release']) =>
  a === b ||
  (a !== undefined && b !== undefined && a.eph === b.eph && a.nonce === b.nonce && a.ciphertext === b.ciphertext);
const sameDecision = (a: Decision, b: Decision) =>
  a.deviceId === b.deviceId &&
  a.decision === b.decision &&
  a.signedAt === b.signedAt &&
  a.signature === b.signature &&
  sameRelease(a.release, b.release);

export function signInRoutes(app: FastifyInstance, ctx: CcContext): void {
  app.post('/v1/workstation/auth-requests', async (request, reply) => {
    const workstation = await authenticateWorkstation(ctx, request);
    const body = readBody(request, CreateAuthRequestSchema);
    const devices = await ctx.storage.devicesFor(workstation.id, body.user);
    if (devices.length === 0) throw new CcError('conflict', `No phone is paired for ${body.user} on this workstation.`);
    const now = ctx.now();
    if (body.intentId !== undefined) {
      const intent = await ctx.storage.getIntent(body.intentId);
      if (!intent || intent.workstationId !== workstation.id || intent.user !== body.user)
        throw new CcError('not-found', 'intentId names no sign-in intent for this user on this workstation.');
      if (intent.answeredBy !== null) throw new CcError('conflict', 'That sign-in intent already has an auth request.');
      if (now >= intent.expiresAt) throw new CcError('gone', 'That sign-in intent has expired.');
    }
    const id = newId('ar');
    const created = await ctx.storage.createAuthRequest(
      {
        id,
        workstationId: workstation.id,
        user: body.user,
        challenge: body.challenge,
        intentId: body.intentId ?? null,
        credential: body.credential ?? null,
        now,
        expiresAt: now + body.ttlMs,
      },
      auditOk(ctx, workstationActor(workstation), request, 'auth-request.create', id, {
        user: body.user,
        intentId: body.intentId ?? null,
        credential: body.credential !== undefined,
      }),
    );
    if (!created.ok) throw new CcError('conflict', 'That sign-in intent already has an auth request.');
    ctx.bus.publish(...devices.map((device) => `device:${device}`));
    return reply.code(201).send({ requestId: id, expiresAt: created.request.expiresAt });
  });

  app.get('/v1/workstation/auth-requests/:requestId', async (request, reply) => {
    const workstation = await authenticateWorkstation(ctx, request);
    const id = readParam(request, 'requestId', requestIdParam);
    const { wait } = readQuery(request, WaitQuery);
    const found = await ctx.storage.getAuthRequest(id);
    if (!found || found.workstationId !== workstation.id)
      throw new CcError('not-found', 'This workstation has no auth request with that id.');
    const status = await longPoll(ctx, reply, [id], wait, async () => {
      const current = (await ctx.storage.getAuthRequest(id)) ?? found;
      const value = authStatus(current, ctx.now());
      return { value, final: value.status !== 'pending', wakeAt: current.expiresAt };
    });
    return reply.send(status);
  });

  inboxRoute(app, ctx, 'workstation', async (workstation) => {
    const [intents, resets] = await Promise.all([
      ctx.storage.pendingIntents(workstation.id, ctx.now()),
      ctx.storage.pendingLockoutResets(workstation.id),
    ]);
    return {
      intents: intents.map((intent) => ({
        intentId: intent.id,
        user: intent.user,
        deviceId: intent.deviceId,
        createdAt: intent.createdAt,
        expiresAt: intent.expiresAt,
      })),
      // Only when there is one, so an agent that predates lockout resets keeps reading its inbox.
      ...(resets.length > 0
        ? { lockoutResets: resets.map((r) => ({ resetId: r.id, user: r.user, requestedAt: r.requestedAt })) }
        : {}),
    };
  });

  app.post('/v1/device/sign-in', async (request, reply) => {
    const device = await authenticateDevice(ctx, request);
    const body = readBody(request, SignInIntentRequestSchema);
    if (!(await ctx.storage.isBound(device.id, body.workstationId, body.user)))
      throw new CcError('not-found', 'This phone is not paired for that user on that workstation.');
    const now = ctx.now();
    const id = newId('in');
    const intent = await ctx.storage.createIntent(
      { id, ...body, deviceId: device.id, createdAt: now, expiresAt: now + INTENT_TTL_MS },
      auditOk(ctx, deviceActor(device), request, 'sign-in.intent', id, {
        workstationId: body.workstationId,
        user: body.user,
      }),
    );
    ctx.bus.publish(`workstation:${body.workstationId}`);
    return reply.code(201).send({ intentId: intent.id, expiresAt: intent.expiresAt });
  });

  app.post('/v1/device/auth-requests/:requestId/decision', async (request, reply) => {
    const device = await authenticateDevice(ctx, request);
    const id = readParam(request, 'requestId', requestIdParam);
    const body = readBody(request, DecisionRequestSchema);
    const found = await ctx.storage.getAuthRequest(id);
    if (!found || !(await ctx.storage.isBound(device.id, found.workstationId, found.user)))
      throw new CcError('not-found', 'This phone has no auth request with that id.');
    const decision: Decision = { deviceId: device.id, ...body };
    const now = ctx.now();
    if (found.decision) {
      if (sameDecision(found.decision, decision)) return reply.send(authStatus(found, now));
      throw new CcError('conflict', 'This auth request was already decided.');
    }
    if (now >= found.expiresAt) throw new CcError('gone', 'This auth request has expired; start the sign-in again.');
    if (body.release !== undefined && (body.decision !== 'approve' || found.credential === null))
      throw new CcError(
        'bad-request',
        'release: only an approval of a request that asked for a credential carries one.',
      );
    const fields = {
      requestId: id,
      workstationId: found.workstationId,
      user: found.user,
      challenge: found.challenge,
      decision: body.decision,
      deviceId: device.id,
      signedAt: body.signedAt,
      ...(body.release === undefined ? {} : { release: body.release }),
    };
    if (!(await checkApproval(fields, body.signature, fromBase64url(device.signingKey)))) {
      throw new CcError('bad-request', "signature does not verify with this phone's key over latchkey-approval-v1.");
    }
    const result = await ctx.storage.decideAuthRequest(
      id,
      decision,
      now,
      auditResult(ctx, deviceActor(device), request, 'auth-request.decide', id, body.decision, {
        workstationId: found.workstationId,
        user: found.user,
      }),
    );
    if (result.outcome === 'expired')
      throw new CcError('gone', 'This auth request has expired; start the sign-in again.');
    if (result.outcome === 'already-decided' && !sameDecision(result.request.decision!, decision))
      throw new CcError('conflict', 'This auth request was already decided.');
    ctx.bus.publish(id);
    return reply.send(authStatus(result.request, now));
  });
}
