/**
 * A tap and a long press on a workstation (docs/phone.md "Screens and states"):
 * - no internet (R4): straight to the offline PIN;
 * - online: post a sign-in intent, wait up to five seconds for the auth request carrying it and
 *   approve it; none → offer the offline PIN (R3); after an approval the pool that follows is
 *   imported when it comes in time (R9);
 * - a long press (R5): the offline PIN, whatever the connectivity.
 * Whether an offline PIN may be shown is decided by offline-pin-rules.ts alone.
 */
import { refreshSettings } from './settings-refresh.js';
import type { PhoneContext } from './phone-context.js';
import { decideAuthRequest } from './auth-decision.js';
import { PhoneError } from './errors.js';
import { decideOfflinePin } from './offline-pin-rules.js';
import { takeOfflinePin } from './offline-pin-take.js';
import { pollUntil } from './poll-until.js';
import type { OfflinePinScreen, OfflineVia, TapScreen, WorkstationLabel } from './screens.js';
import { resolvePairing, type WorkstationRef } from './workstation-ref.js';

/** R3: how long a tap waits for the workstation before offering the offline PIN. */
export const OFFLINE_OFFER_AFTER_MS = 5000;

export interface TapOptions {
  /** Take the R3 offer at once (the CLI's default: a person who tapped wants in). */
  readonly takeOffer?: boolean;
  /** After an approval, wait this long for the new pool (R9); 0 leaves it to the next inbox round. */
  readonly waitForPoolMs?: number;
}

export async function showOfflinePin(
  ctx: PhoneContext,
  ref: WorkstationRef,
  via: OfflineVia,
): Promise<OfflinePinScreen> {
  const taken = await takeOfflinePin(ctx.store, ref, ctx.clock.now());
  if (taken.ok) return { ...taken, screen: 'offline-pin', via };
  return {
    workstationId: taken.workstationId,
    workstationName: taken.workstationName,
    user: taken.user,
    screen: 'no-offline-pin',
    via,
    code: taken.code,
  };
}

export function longPress(ctx: PhoneContext, ref: WorkstationRef): Promise<OfflinePinScreen> {
  return showOfflinePin(ctx, ref, 'long-press');
}

export async function tap(ctx: PhoneContext, ref: WorkstationRef, options: TapOptions = {}): Promise<TapScreen> {
  const pairing = resolvePairing(await ctx.store.read(), ref);
  const exact = { workstation: pairing.workstationId, user: pairing.user };
  const label: WorkstationLabel = {
    workstationId: pairing.workstationId,
    workstationName: pairing.workstationName,
    user: pairing.user,
  };
  if (!ctx.connectivity.hasNetwork()) return showOfflinePin(ctx, exact, 'no-internet');

  const endpoint = { url: pairing.url, deviceId: pairing.deviceId };
  let intentId: string;
  try {
    intentId = (await ctx.api(endpoint).signIn(pairing.workstationId, pairing.user)).intentId;
  } catch (error) {
    if (!(error instanceof PhoneError)) throw error;
    if (error.code === 'unreachable') return showOfflinePin(ctx, exact, 'no-internet');
    return offer(ctx, exact, label, options);
  }

  const waited = await pollUntil(ctx, endpoint, OFFLINE_OFFER_AFTER_MS, (round) =>
    round.authRequests.find(
      (r) => r.intentId === intentId && r.workstationId === pairing.workstationId && r.user === pairing.user,
    ),
  );
  if (waited.kind === 'unreachable') return showOfflinePin(ctx, exact, 'no-internet');
  if (waited.kind !== 'found') return offer(ctx, exact, label, options);

  try {
    await decideAuthRequest(ctx, endpoint, waited.value, 'approve');
  } catch (error) {
    if (!(error instanceof PhoneError)) throw error;
    if (error.code === 'unreachable') return showOfflinePin(ctx, exact, 'no-internet');
    return offer(ctx, exact, label, options);
  }
  // No pool follows where Offline Mode is off (R1): do not wait for one. The settings kept since
  // pairing may be stale (an admin turned Offline Mode on since), so ask for them now.
  await refreshSettings(ctx, endpoint).catch(() => undefined);
  const settings = resolvePairing(await ctx.store.read(), exact).settings;
  const waitForPoolMs = settings?.offlineMode === false ? 0 : (options.waitForPoolMs ?? 0);
  let replenished = false;
  if (waitForPoolMs > 0) {
    const pool = await pollUntil(ctx, endpoint, waitForPoolMs, (round) =>
      round.imports.find(
        (i) => i.ok && i.outcome === 'imported' && i.workstationId === pairing.workstationId && i.user === pairing.user,
      ),
    );
    replenished = pool.kind === 'found';
  }
  return { ...label, screen: 'approved', replenished };
}

/** R3's offer, when the rules allow an offline PIN at all; otherwise the reason there is none. */
async function offer(
  ctx: PhoneContext,
  ref: WorkstationRef,
  label: WorkstationLabel,
  options: TapOptions,
): Promise<TapScreen> {
  if (options.takeOffer ?? true) return showOfflinePin(ctx, ref, 'workstation-not-answering');
  const decision = decideOfflinePin(resolvePairing(await ctx.store.read(), ref), ctx.clock.now());
  if (!decision.ok)
    return { ...label, screen: 'no-offline-pin', via: 'workstation-not-answering', code: decision.code };
  return { ...label, screen: 'offline-pin-offered', via: 'workstation-not-answering' };
}
