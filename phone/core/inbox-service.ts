/**
 * The inbox as `serve`, `approve` and `deny` use it: rounds over every inbox this phone has,
 * turned into events for the screen; auth requests decided on request (or automatically, for
 * engineers and tests).
 */
import { decideAuthRequest, type Decision } from './auth-decision.js';
import { endpointsOf, type PhoneContext } from './phone-context.js';
import type { InboxAuthRequest } from './device-api.js';
import { PhoneError } from './errors.js';
import { inboxRound, type InboxRound } from './inbox.js';
import type { Endpoint } from './pool-import.js';
import type { InboxEvent } from './screens.js';

export interface ServeOptions {
  readonly waitSeconds: number;
  readonly autoApprove?: boolean;
  readonly signal?: AbortSignal;
}

/** One round over every inbox at once; a Control Center that does not answer becomes an event. */
export async function serveRound(ctx: PhoneContext, options: ServeOptions): Promise<InboxEvent[]> {
  const endpoints = endpointsOf((await ctx.store.read()).pairings);
  const rounds = await Promise.all(
    endpoints.map((endpoint) =>
      inboxRound(ctx, endpoint, options.waitSeconds, options.signal).catch((error: unknown) => {
        if (error instanceof PhoneError) return { endpoint, error };
        throw error;
      }),
    ),
  );
  const events: InboxEvent[] = [];
  for (const round of rounds) {
    if ('error' in round) {
      if (!options.signal?.aborted) events.push({ event: 'unreachable', url: round.endpoint.url });
      continue;
    }
    events.push(...importEvents(round));
    for (const request of round.authRequests) {
      if (!options.autoApprove) {
        events.push({
          event: 'auth-request',
          requestId: request.requestId,
          workstationId: request.workstationId,
          workstationName: request.workstationName,
          user: request.user,
          expiresAt: request.expiresAt,
          intentId: request.intentId,
        });
        continue;
      }
      try {
        const decided = await decideAuthRequest(ctx, round.endpoint, request, 'approve');
        events.push({ event: 'decided', ...decided });
      } catch (error) {
        if (!(error instanceof PhoneError)) throw error;
        if (error.code === 'credential-request-forged')
          events.push({
            event: 'request-refused',
            requestId: request.requestId,
            workstationId: request.workstationId,
            workstationName: request.workstationName,
            user: request.user,
            code: error.code,
            message: error.message,
          });
      }
    }
  }
  return events;
}

function importEvents(round: InboxRound): InboxEvent[] {
  return round.imports.map((i) =>
    i.ok
      ? {
          event: 'pool-imported',
          workstationId: i.workstationId,
          workstationName: i.workstationName,
          user: i.user,
          deliveryId: i.deliveryId,
          count: i.count,
          confirmed: i.confirmed,
        }
      : {
          event: 'pool-refused',
          workstationId: i.workstationId,
          workstationName: i.workstationName,
          user: i.user,
          deliveryId: i.deliveryId,
          code: i.code,
          message: i.message,
        },
  );
}

export interface PendingRequest {
  readonly endpoint: Endpoint;
  readonly request: InboxAuthRequest;
}

/** The auth requests waiting now, across every inbox (no long-poll). */
export async function pendingRequests(ctx: PhoneContext): Promise<PendingRequest[]> {
  const endpoints = endpointsOf((await ctx.store.read()).pairings);
  const pending: PendingRequest[] = [];
  let reached = 0;
  for (const endpoint of endpoints) {
    try {
      const round = await inboxRound(ctx, endpoint, 0);
      reached++;
      pending.push(...round.authRequests.map((request) => ({ endpoint, request })));
    } catch (error) {
      if (!(error instanceof PhoneError) || error.code !== 'unreachable') throw error;
    }
  }
  if (reached === 0 && endpoints.length > 0)
    throw new PhoneError('unreachable', 'The Control Center cannot be reached.');
  return pending;
}

/** Approves or denies one waiting request: the one named, or the only one. */
export async function decidePending(ctx: PhoneContext, requestId: string | undefined, decision: Decision) {
  const pending = (await pendingRequests(ctx)).filter((p) => ctx.clock.now() < p.request.expiresAt);
  const chosen = requestId === undefined ? pending : pending.filter((p) => p.request.requestId === requestId);
  if (chosen.length === 0) {
    throw new PhoneError(
      'unknown-request',
      requestId === undefined
        ? 'No sign-in request is waiting.'
        : `No sign-in request ${requestId} is waiting (it may have expired or been answered).`,
    );
  }
  if (chosen.length > 1) {
    throw new PhoneError(
      'unknown-request',
      `${chosen.length} sign-in requests are waiting — name one: ${chosen.map((p) => `${p.request.requestId} (${p.request.workstationName}, ${p.request.user})`).join(', ')}.`,
    );
  }
  return decideAuthRequest(ctx, chosen[0]!.endpoint, chosen[0]!.request, decision);
}
