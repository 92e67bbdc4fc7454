/**
 * Errors of the BLE I/O layer (docs/ble-protocol.md §8, transport codes). The pure layer's
 * codes (ble/protocol/errors.ts) pass through unchanged; these name what the radio did, or what
 * was wrong with a development pairing file.
 */
import type { BleProtocolErrorCode } from './protocol/errors.js';
import { CodedError } from '../protocol/coded-error.js';

export type BleTransportErrorCode =
  | 'adapter-unavailable'
  | 'no-phone-found'
  | 'connect-failed'
  | 'gatt-setup-failed'
  | 'disconnected';
export type BleUnlockFailureCode = BleProtocolErrorCode | BleTransportErrorCode;

export class BleTransportError extends CodedError<BleTransportErrorCode> {}

export type PairingFileErrorCode = 'missing' | 'unreadable' | 'insecure' | 'malformed' | 'wrong-role';

/** A development pairing file that cannot be used (ble/pairing-file.ts, docs/ble-dongles.md "Pairing"). */
export class PairingFileError extends CodedError<PairingFileErrorCode> {}

/** Failures a new attempt (new connection, new keys, new challenge) may cure (§8). */
export const RETRYABLE_CODES: ReadonlySet<BleUnlockFailureCode> = new Set([
  'connect-failed',
  'gatt-setup-failed',
  'disconnected',
]);

/** Resolves with the promise, or rejects with `error()` after `ms`; the timer never outlives it. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, error: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(error()), Math.max(0, ms)))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
