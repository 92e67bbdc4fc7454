/**
 * What the app shows (docs/phone.md "Screens and states"), as data: the core returns a screen,
 * the CLI prints it (phone/core/sentences.ts has the sentences), a web app would draw it.
 */
import type { NoOfflinePinCode, OfflinePinStatus } from './offline-pin-rules.js';
import type { TakenPin } from './offline-pin-take.js';

export interface WorkstationLabel {
  readonly workstationId: string;
  readonly workstationName: string;
  readonly user: string;
}

/** Why the phone went to the offline PIN: R4, R3, or R5. */
export type OfflineVia = 'no-internet' | 'workstation-not-answering' | 'long-press';

export type TapScreen =
  /** The online sign-in went through; `replenished` when the pool that follows (R9) arrived too. */
  | (WorkstationLabel & { readonly screen: 'approved'; readonly replenished: boolean })
  /** R3: the workstation did not answer within 5 s; the offline PIN is offered, not shown yet. */
  | (WorkstationLabel & { readonly screen: 'offline-pin-offered'; readonly via: 'workstation-not-answering' })
  | OfflinePinScreen;

export type OfflinePinScreen =
  | (Extract<TakenPin, { ok: true }> & { readonly screen: 'offline-pin'; readonly via: OfflineVia })
  | (WorkstationLabel & {
      readonly screen: 'no-offline-pin';
      readonly via: OfflineVia;
      readonly code: NoOfflinePinCode;
    });

export interface Tile extends WorkstationLabel {
  readonly offline: OfflinePinStatus;
  /** Whether the Control Center listed this pairing just now; null when it was not asked. */
  readonly active: boolean | null;
  readonly lastApprovedAt: number | null;
}

export interface MainScreen {
  readonly screen: 'main';
  /** R4: the Control Center did not answer (or the device has no network). */
  readonly noInternet: boolean;
  readonly tiles: readonly Tile[];
}

/** What `serve` saw in one round. */
export type InboxEvent =
  | (WorkstationLabel & {
      readonly event: 'auth-request';
      readonly requestId: string;
      readonly expiresAt: number;
      readonly intentId: string | null;
    })
  | (WorkstationLabel & {
      readonly event: 'decided';
      readonly requestId: string;
      readonly decision: 'approve' | 'deny';
    })
  | (WorkstationLabel & {
      readonly event: 'pool-imported';
      readonly deliveryId: string;
      readonly count: number;
      readonly confirmed: boolean;
    })
  | (WorkstationLabel & {
      readonly event: 'pool-refused';
      readonly deliveryId: string;
      readonly code: string;
      readonly message: string;
    })
  /** A request the phone would not approve as it came (docs/windows.md §6.5: a forged credential request). */
  | (WorkstationLabel & {
      readonly event: 'request-refused';
      readonly requestId: string;
      readonly code: string;
      readonly message: string;
    })
  | { readonly event: 'unreachable'; readonly url: string };
