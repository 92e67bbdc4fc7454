/**
 * The phone (docs/phone.md): one object over the injected ports that a CLI or a web app drives.
 * Each method is one person's action and returns what the screen shows.
 */
import type { FetchLike } from '../../platform/api-client.js';
import type { Decision, DecidedRequest } from './auth-decision.js';
import { makeContext, type PhoneContext } from './phone-context.js';
import { loadDeviceKeys, newDevice } from './device-keys.js';
import { PhoneError } from './errors.js';
import { decidePending, pendingRequests, serveRound, type PendingRequest, type ServeOptions } from './inbox-service.js';
import { mainScreen } from './main-screen.js';
import { redeemPairingCode } from './pairing-flow.js';
import { samePairing, type Pairing, type PhoneState } from './phone-state.js';
import { alwaysConnected, systemClock, type Clock, type Connectivity, type PhoneStore } from './ports.js';
import type { InboxEvent, MainScreen, OfflinePinScreen, TapScreen } from './screens.js';
import { refreshSettings } from './settings-refresh.js';
import { longPress, showOfflinePin, tap, type TapOptions } from './sign-in-flow.js';
import { resolvePairing, type WorkstationRef } from './workstation-ref.js';

export interface PhonePorts {
  readonly store: PhoneStore;
  readonly clock?: Clock;
  readonly connectivity?: Connectivity;
  readonly fetch?: FetchLike;
}

/** A new phone's state: fresh device keys, no pairings. The caller makes the store from it. */
export async function newPhoneState(deviceName: string, nowMs: number): Promise<PhoneState> {
  return { v: 1, device: await newDevice(deviceName, nowMs), pairings: [] };
}

export class Phone {
  private constructor(private readonly ctx: PhoneContext) {}

  static async open(ports: PhonePorts): Promise<Phone> {
    const state = await ports.store.read();
    const keys = await loadDeviceKeys(state.device);
    const clock = ports.clock ?? systemClock;
    const connectivity = ports.connectivity ?? alwaysConnected;
    return new Phone(
      makeContext({ store: ports.store, clock, connectivity, ...(ports.fetch ? { fetch: ports.fetch } : {}) }, keys),
    );
  }

  /** Redeems a pairing code and keeps the pairing (replacing one for the same workstation and user). */
  async pair(code: string, url: string, deviceName?: string): Promise<Pairing> {
    if (!this.ctx.connectivity.hasNetwork())
      throw new PhoneError('unreachable', 'Pairing needs an internet connection.');
    const state = await this.ctx.store.read();
    const pairing = await redeemPairingCode(this.ctx.anonymousApi(url), this.ctx.keys, {
      code,
      url,
      deviceName: deviceName ?? state.device.name,
      nowMs: this.ctx.clock.now(),
    });
    await this.ctx.store.update((draft) => {
      const old = draft.pairings.find((p) => samePairing(p, pairing));
      // The pools of an earlier pairing stay only when it is the same device at the same Control Center.
      const keep =
        old && old.deviceId === pairing.deviceId && old.url === pairing.url
          ? {
              settings: old.settings,
              settingsAt: old.settingsAt,
              pool: old.pool,
              pendingPool: old.pendingPool,
              lastApprovedAt: old.lastApprovedAt,
            }
          : {};
      draft.pairings = [...draft.pairings.filter((p) => !samePairing(p, pairing)), { ...pairing, ...keep }];
    });
    // The workstation may not have accepted yet; settings come later if not now.
    await refreshSettings(this.ctx, pairing).catch(() => undefined);
    return resolvePairing(await this.ctx.store.read(), { workstation: pairing.workstationId, user: pairing.user });
  }

  mainScreen(): Promise<MainScreen> {
    return mainScreen(this.ctx);
  }

  tap(ref: WorkstationRef, options?: TapOptions): Promise<TapScreen> {
    return tap(this.ctx, ref, options);
  }

  /** The person took R3's offer. */
  useOfflinePin(ref: WorkstationRef): Promise<OfflinePinScreen> {
    return showOfflinePin(this.ctx, ref, 'workstation-not-answering');
  }

  longPress(ref: WorkstationRef): Promise<OfflinePinScreen> {
    return longPress(this.ctx, ref);
  }

  serveRound(options: ServeOptions): Promise<InboxEvent[]> {
    return serveRound(this.ctx, options);
  }

  pendingRequests(): Promise<PendingRequest[]> {
    return pendingRequests(this.ctx);
  }

  decide(requestId: string | undefined, decision: Decision): Promise<DecidedRequest> {
    return decidePending(this.ctx, requestId, decision);
  }

  /** Forgets a pairing and its seeds on this phone (the Control Center's binding is the admin's to revoke). */
  async unpair(ref: WorkstationRef): Promise<Pairing> {
    return this.ctx.store.update((state) => {
      const pairing = resolvePairing(state, ref);
      state.pairings = state.pairings.filter((p) => !samePairing(p, pairing));
      return pairing;
    });
  }
}
