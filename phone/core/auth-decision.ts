/**
 * Answering an auth request (docs/online-protocol.md "Online sign-in", step 2): the phone signs
 * its decision over every id involved with `signApproval`, so the Control Center can relay but
 * never forge it. Only requests for a (workstation, user) this device is paired with are signed.
 * An approval of a Windows credential request carries the copy key sealed to the request key,
 * only when the workstation pinned at pairing signed the request (docs/windows.md §6.5).
 */
import { signApproval } from '../../protocol/online/approvals.js';
import { fromBase64url } from '../../protocol/online/base64url.js';
import { phoneRelease, type ReleaseBody } from '../../protocol/online/credential-release.js';
import { loadCredentialKey } from './credential-key.js';
import type { Pairing } from './phone-state.js';
import type { PhoneContext } from './phone-context.js';
import type { InboxAuthRequest } from './device-api.js';
import { PhoneError } from './errors.js';
import type { Endpoint } from './pool-import.js';

export type Decision = 'approve' | 'deny';

export interface DecidedRequest {
  readonly requestId: string;
  readonly workstationId: string;
  readonly workstationName: string;
  readonly user: string;
  readonly decision: Decision;
}

export async function decideAuthRequest(
  ctx: PhoneContext,
  endpoint: Endpoint,
  request: InboxAuthRequest,
  decision: Decision,
): Promise<DecidedRequest> {
  const state = await ctx.store.read();
  const pairing = state.pairings.find(
    (p) =>
      p.workstationId === request.workstationId &&
      p.user === request.user &&
      p.deviceId === endpoint.deviceId &&
      p.url === endpoint.url,
  );
  if (!pairing)
    throw new PhoneError(
      'unknown-workstation',
      `This phone is not paired with ${request.workstationName} for ${request.user}; the request was left alone.`,
    );
  const signedAt = ctx.clock.now();
  if (request.expiresAt <= signedAt)
    throw new PhoneError('request-expired', `The sign-in request from ${pairing.workstationName} has expired.`);
  const released = decision === 'approve' ? await releaseFor(request, pairing) : { kind: 'none' as const };
  // A request the workstation did not sign is refused, visibly: the phone's person meant to approve it.
  const sent = released.kind === 'forged' ? 'deny' : decision;
  const release: ReleaseBody | undefined = released.kind === 'release' ? released.release : undefined;
  const signature = await signApproval(
    {
      requestId: request.requestId,
      workstationId: request.workstationId,
      user: request.user,
      challenge: request.challenge,
      decision: sent,
      deviceId: endpoint.deviceId,
      signedAt,
      ...(release ? { release } : {}),
    },
    ctx.keys.signing,
  );
  await ctx
    .api(endpoint)
    .decide(request.requestId, { decision: sent, signedAt, signature, ...(release ? { release } : {}) });
  if (released.kind === 'forged')
    throw new PhoneError(
      'credential-request-forged',
      `The sign-in request from ${pairing.workstationName} was changed on the way — it was refused. Tell IT.`,
    );
  if (decision === 'approve') {
    await ctx.store.update((draft) => {
      const current = draft.pairings.find(
        (p) => p.workstationId === pairing.workstationId && p.user === pairing.user && p.deviceId === endpoint.deviceId,
      );
      if (current) current.lastApprovedAt = signedAt;
    });
  }
  return {
    requestId: request.requestId,
    workstationId: pairing.workstationId,
    workstationName: pairing.workstationName,
    user: pairing.user,
    decision,
  };
}

async function releaseFor(request: InboxAuthRequest, pairing: Pairing): ReturnType<typeof phoneRelease> {
  if (request.credential === undefined) return { kind: 'none' };
  return phoneRelease(
    { ...request, credential: request.credential },
    {
      deviceId: pairing.deviceId,
      workstationKey: fromBase64url(pairing.workstationKey),
      credentialKey: await loadCredentialKey(pairing.credentialKey),
    },
  );
}
