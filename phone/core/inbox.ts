/**
 * One round of an inbox (`GET /v1/device/inbox?wait=N`, docs/online-protocol.md): every pool
 * delivery is imported and confirmed (R9); auth requests for this phone's pairings are handed
 * back for the caller to decide (the sign-in flow, `serve`, or a person).
 */
import type { PhoneContext } from './phone-context.js';
import type { InboxAuthRequest } from './device-api.js';
import { PhoneError } from './errors.js';
import { importPoolDelivery, reconfirmPending, type Endpoint, type PoolImport } from './pool-import.js';
import { refreshSettings } from './settings-refresh.js';

export interface InboxRound {
  readonly endpoint: Endpoint;
  readonly authRequests: readonly InboxAuthRequest[];
  readonly imports: readonly PoolImport[];
}

export async function inboxRound(
  ctx: PhoneContext,
  endpoint: Endpoint,
  waitSeconds: number,
  signal?: AbortSignal,
): Promise<InboxRound> {
  const inbox = await ctx.api(endpoint).inbox(waitSeconds, signal);
  const imports: PoolImport[] = [];
  for (const delivery of inbox.poolDeliveries) {
    try {
      imports.push(await importPoolDelivery(ctx, endpoint, delivery));
    } catch (error) {
      // The Control Center went away or refused mid-way: the delivery stays listed; next round retries.
      if (!(error instanceof PhoneError)) throw error;
    }
  }
  try {
    imports.push(...(await reconfirmPending(ctx, endpoint, new Set(inbox.poolDeliveries.map((d) => d.deliveryId)))));
  } catch (error) {
    if (!(error instanceof PhoneError)) throw error;
  }
  // A new pool comes with the settings that go with it (R8's threshold, R1).
  if (imports.some((i) => i.ok && i.outcome === 'imported'))
    await refreshSettings(ctx, endpoint).catch(() => undefined);
  const state = await ctx.store.read();
  const paired = (r: InboxAuthRequest) =>
    state.pairings.some(
      (p) =>
        p.workstationId === r.workstationId &&
        p.user === r.user &&
        p.deviceId === endpoint.deviceId &&
        p.url === endpoint.url,
    );
  return { endpoint, authRequests: inbox.authRequests.filter(paired), imports };
}
