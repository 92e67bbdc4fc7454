/**
 * What a BLE unlock attempt means for the lock screen (docs/ipc.md op 11): the one function
 * that maps the radio's result to `accepted`, `rejected` or `unavailable`, and the sentence a
 * person sees. Only a verified proof in time from a close phone is `accepted`; a refusal the
 * phone or its user caused is `rejected`; anything that proved nothing is `unavailable`, and the
 * lock screen goes on to online sign-in or the offline PIN.
 */
import type { UnlockResult, UnlockTimings } from '../../ble/central.js';
import type { Reply } from '../../protocol/ipc-messages.js';

export type BleRejection = 'declined' | 'bad-proof' | 'too-late' | 'too-weak';
export type BleUnavailable = 'no-phone' | 'ble-off' | 'timeout' | 'link';

/** What the person is told: named after the cause, which is finer than the wire's reason (docs/pam.md "What the person is told"). */
export type BleSentence =
  | 'accepted'
  | BleRejection
  | Exclude<BleUnavailable, 'timeout'>
  | 'not-found'
  | 'heard-faintly'
  | 'no-answer';

export type BleAuthOutcome =
  | { readonly status: 'accepted'; readonly deviceId: string; readonly timings?: UnlockTimings }
  | { readonly status: 'rejected'; readonly reason: BleRejection; readonly detail: string }
  | {
      readonly status: 'unavailable';
      readonly reason: BleUnavailable;
      readonly sentence: BleSentence;
      readonly detail: string;
    };

export const BLE_MESSAGES: Record<BleSentence, string> = {
  accepted: 'Approved on your phone over Bluetooth — unlocked.',
  declined: 'The unlock was declined on your phone.',
  'bad-proof':
    'The phone nearby could not prove it is your paired phone — try again with an offline PIN or your password.',
  'too-late': 'Your phone answered too late — try again with an offline PIN or your password.',
  'too-weak': 'Your phone is too far away — bring it closer, or try again with an offline PIN or your password.',
  'no-phone': 'No phone is paired over Bluetooth for you on this computer.',
  'ble-off': 'Bluetooth is not available on this computer right now — type an offline PIN or your password.',
  'not-found':
    'Your phone was not found over Bluetooth — is it near, with Latchkey open? Type an offline PIN or your password.',
  'heard-faintly':
    'Your phone is too far away for Bluetooth — bring it closer, or type an offline PIN or your password.',
  'no-answer': 'No answer from your phone over Bluetooth — type an offline PIN or your password.',
  link: 'The Bluetooth connection to your phone failed — type an offline PIN or your password.',
};

/** The radio's result → the lock screen's answer (docs/ipc.md op 11, docs/ble-protocol.md §8). */
export function bleAuthOutcome(result: UnlockResult): BleAuthOutcome {
  if (result.ok) return { status: 'accepted', deviceId: result.pairingId, timings: result.timings };
  const detail = result.reason;
  switch (result.code) {
    case 'declined':
      return { status: 'rejected', reason: 'declined', detail };
    case 'bad-signature':
    case 'decrypt-failed':
    case 'bad-key':
      return { status: 'rejected', reason: 'bad-proof', detail };
    case 'reply-too-late':
      return { status: 'rejected', reason: 'too-late', detail };
    case 'signal-too-weak':
      // Heard only faintly while scanning: nothing was tried, the person is simply not near.
      return result.stage === 'scan'
        ? { status: 'unavailable', reason: 'timeout', sentence: 'heard-faintly', detail }
        : { status: 'rejected', reason: 'too-weak', detail };
    case 'adapter-unavailable':
      return { status: 'unavailable', reason: 'ble-off', sentence: 'ble-off', detail };
    case 'no-phone-found':
      return { status: 'unavailable', reason: 'timeout', sentence: 'not-found', detail };
    case 'approval-timeout':
      return { status: 'unavailable', reason: 'timeout', sentence: 'no-answer', detail };
    default:
      return { status: 'unavailable', reason: 'link', sentence: 'link', detail };
  }
}

export function bleAuthAnswer(outcome: BleAuthOutcome): Omit<Reply, 'requestId'> {
  if (outcome.status === 'accepted') return { status: 'accepted', message: BLE_MESSAGES.accepted };
  return {
    status: outcome.status,
    reason: outcome.reason,
    message: BLE_MESSAGES[outcome.status === 'rejected' ? outcome.reason : outcome.sentence],
  };
}
