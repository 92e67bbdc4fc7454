/**
 * Workstation enrollment with an install token, and the workstation's signed policy
 * (docs/online-protocol.md "Workstation enrollment", "Policy updates").
 */
import type { FastifyInstance } from 'fastify';
import * as v from 'valibot';
import { fromBase64url } from '../../../protocol/online/base64url.js';
import { transcript } from '../../../protocol/online/canonical-json.js';
import { newId } from '../../../protocol/online/ids.js';
import { EnrollRequestSchema } from '../../../protocol/online/http-bodies.js';
import { verify } from '../../../protocol/crypto/webcrypto.js';
import { CcError } from '../../errors.js';
import { signedPolicyFor } from '../../policy.js';
import { tokenDigest } from '../../secrets.js';
import { authenticateWorkstation } from '../authenticate.js';
import { readBody, readQuery, waitSeconds } from '../boundary.js';
import { audit, type CcContext } from '../route-context.js';
import { longPoll } from '../long-poll.js';

const REFUSALS = {
  'unknown-token': new CcError(
    'unauthenticated',
    'The install token is not valid (unknown or revoked); ask your administrator for a current one.',
  ),
  'revoked-token': new CcError(
    'unauthenticated',
    'The install token is not valid (unknown or revoked); ask your administrator for a current one.',
  ),
  'expired-token': new CcError('gone', 'The install token has expired; ask your administrator for a new one.'),
  'used-up-token': new CcError(
    'forbidden',
    'The install token has been used as many times as it allows; ask your administrator for a new one.',
  ),
  removed: new CcError('forbidden', 'An administrator removed this workstation; enroll it again with a new key.'),
} as const;

const PolicyQuery = v.strictObject({
  wait: waitSeconds,
  since: v.optional(v.pipe(v.string(), v.regex(/^\d{1,15}$/, 'must be a policy version'), v.transform(Number))),
});

export function enrollmentRoutes(app: FastifyInstance, ctx: CcContext): void {
  app.post('/v1/workstations/enroll', async (request, reply) => {
    ctx.limiters.enroll.hit(request.ip);
    const body = readBody(request, EnrollRequestSchema);
    const installTokenSha256 = await tokenDigest(body.installToken);
    const proofOk = await verify(
      fromBase64url(body.publicKey),
      fromBase64url(body.proof),
      transcript('latchkey-enroll-v1', { installTokenSha256, publicKey: body.publicKey, name: body.name }),
    );
    const address = request.ip;
    const refused = (reason: string) =>
      ctx.storage.appendAudit(
        audit(ctx, {
          tenantId: ctx.defaultTenantId,
          actor: 'anonymous',
          address,
          action: 'workstation.enroll',
          result: 'refused',
          detail: { reason },
        }),
      );
    if (!proofOk) {
      await refused('proof');
      throw new CcError('unauthenticated', 'proof does not verify with publicKey (latchkey-enroll-v1).');
    }
    const result = await ctx.storage.enrollWorkstation(
      { id: newId('ws'), name: body.name, publicKey: body.publicKey, installTokenSha256, now: ctx.now() },
      ({ workstation, created }) =>
        audit(ctx, {
          tenantId: workstation.tenantId,
          actor: 'anonymous',
          address,
          action: 'workstation.enroll',
          target: workstation.id,
          result: created ? 'enrolled' : 'already-enrolled',
          detail: { name: workstation.name, installTokenId: workstation.installTokenId, groupId: workstation.groupId },
        }),
    );
    if (!result.ok) {
      await refused(result.code);
      throw REFUSALS[result.code];
    }
    const signed = await signedPolicyFor(ctx.storage, ctx.keys, result.workstation);
    return reply.code(result.created ? 201 : 200).send({
      workstationId: result.workstation.id,
      tenantId: result.workstation.tenantId,
      ccKey: ctx.keys.ccKey,
      ccBoxKey: ctx.keys.ccBoxKey,
      policy: signed.policy,
      signature: signed.signature,
    });
  });

  app.get('/v1/workstation/policy', async (request, reply) => {
    const workstation = await authenticateWorkstation(ctx, request);
    const query = readQuery(request, PolicyQuery);
    const since = query.since;
    if (since !== undefined) await ctx.storage.notePolicyVersion(workstation.id, since);
    await longPoll(ctx, reply, ['policy'], query.wait, async () => {
      const revision = await ctx.storage.revision();
      return { value: null, final: since === undefined || revision.revision > since };
    });
    // Read again: the workstation may have moved to another group while it waited.
    const current = (await ctx.storage.getWorkstation(workstation.id)) ?? workstation;
    return reply.send(await signedPolicyFor(ctx.storage, ctx.keys, current));
  });
}
