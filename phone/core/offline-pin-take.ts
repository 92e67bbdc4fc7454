/**
 * Showing an offline PIN: decide, move the pool's counter past the PIN durably, and only then
 * derive it for the screen (docs/phone.md "Pools": a PIN is never shown twice).
 */
import { fromBase64urlOfLength } from '../../protocol/online/base64url.js';
import { deriveOfflinePin, formatPinForDisplay, type PinCharset } from '../../protocol/offline-pin.js';
import { decideOfflinePin, effectiveSettings, type NoOfflinePinCode } from './offline-pin-rules.js';
import type { PhoneStore } from './ports.js';
import { resolvePairing, type WorkstationRef } from './workstation-ref.js';

export type TakenPin =
  | {
      readonly ok: true;
      readonly workstationId: string;
      readonly workstationName: string;
      readonly user: string;
      /** What the person types, grouped for reading (`K7QM-2XHD`). Only ever put on the screen. */
      readonly pin: string;
      readonly counter: number;
      /** 1-based position in its pool and the pool's size, for "PIN 3 of 25". */
      readonly position: number;
      readonly count: number;
      readonly remaining: number;
      readonly low: boolean;
      /** The policy's PIN display timeout: the screen hides the PIN at `hideAt` (docs/phone.md "Pools"). */
      readonly displaySeconds: number;
      readonly hideAt: number;
    }
  | {
      readonly ok: false;
      readonly workstationId: string;
      readonly workstationName: string;
      readonly user: string;
      readonly code: NoOfflinePinCode;
    };

export async function takeOfflinePin(store: PhoneStore, ref: WorkstationRef, nowMs: number): Promise<TakenPin> {
  const taken = await store.update((state) => {
    const pairing = resolvePairing(state, ref);
    const who = { workstationId: pairing.workstationId, workstationName: pairing.workstationName, user: pairing.user };
    const decision = decideOfflinePin(pairing, nowMs);
    if (!decision.ok) return { ...who, ok: false as const, code: decision.code };
    const pool = pairing[decision.which]!;
    pool.next = decision.counter + 1;
    const { pinDisplaySeconds } = effectiveSettings(pairing);
    return {
      ...who,
      ok: true as const,
      decision,
      pinDisplaySeconds,
      seed: pool.seed,
      charset: pool.charset as PinCharset,
      length: pool.length,
      start: pool.start,
      count: pool.count,
    };
  });
  if (!taken.ok) return taken;
  // The new counter is on disk: derive and show.
  const seed = fromBase64urlOfLength(taken.seed, 32, 'seed');
  const pin = deriveOfflinePin(seed, taken.decision.counter, { charset: taken.charset, length: taken.length });
  try {
    return {
      ok: true,
      workstationId: taken.workstationId,
      workstationName: taken.workstationName,
      user: taken.user,
      pin: formatPinForDisplay(pin, taken.charset),
      counter: taken.decision.counter,
      position: taken.decision.counter - taken.start + 1,
      count: taken.count,
      remaining: taken.decision.remainingAfter,
      low: taken.decision.lowAfter,
      displaySeconds: taken.pinDisplaySeconds,
      hideAt: nowMs + taken.pinDisplaySeconds * 1000,
    };
  } finally {
    seed.fill(0);
    pin.fill(0);
  }
}
