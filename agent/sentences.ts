/** The sentences a person sees (docs/offline-pins.md "Messages a person sees"). One place for all of them. */
import type { Reason } from '../protocol/ipc-messages.js';

export function retryPhrase(seconds: number): string {
  if (seconds <= 60) return seconds <= 1 ? '1 second' : seconds < 60 ? `${seconds} seconds` : '1 minute';
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.ceil(minutes / 60);
  return hours === 1 ? '1 hour' : `${hours} hours`;
}

export function acceptedMessage(remaining: number, low: boolean): string {
  if (remaining === 0) return 'That was your last offline PIN — sign in once online to get new ones.';
  if (low) return remainingMessage(remaining, true);
  return `Unlocked — ${remaining} offline PINs left.`;
}

/** What `status` says when PINs are usable. */
export function remainingMessage(remaining: number, low: boolean): string {
  const count = `${remaining} offline PIN${remaining === 1 ? '' : 's'} left`;
  return low ? `${count} — sign in once online to get more.` : `${count}.`;
}

/** docs/windows.md §6.6: Windows refused the password the agent handed back; the tile says so until the next capture. */
export const STALE_CREDENTIAL_MESSAGE = 'Windows did not accept your saved password — sign in with your password once.';

export function wrongPinMessage(retryAfterSeconds?: number): string {
  if (retryAfterSeconds)
    return `That PIN didn't work. Too many attempts — try again in ${retryPhrase(retryAfterSeconds)}.`;
  return "That PIN didn't work — type the next offline PIN from your phone.";
}

const FIXED: Partial<Record<Reason, string>> = {
  'hammering-disabled': 'Offline PINs are off after too many attempts — sign in online or ask IT to reset.',
  'pools-exhausted': 'No offline PINs left — sign in once online to get new ones.',
  'pools-expired': 'Your offline PINs have expired — sign in once online to get new ones.',
  'no-pool': 'No offline PINs are set up for you on this computer.',
  'offline-mode-off': 'Offline PINs are not enabled on this computer.',
  'state-unreadable': 'Offline PINs are unavailable right now — use your password.',
  'keystore-unavailable': 'Offline PINs are unavailable right now — use your password.',
  'internal-error': 'Offline PINs are unavailable right now — use your password.',
};

/** The message for a refusal reason; `retryAfterSeconds` only for delays. */
export function reasonMessage(reason: Reason, retryAfterSeconds?: number): string {
  if (reason === 'hammering-delay') return `Too many attempts — try again in ${retryPhrase(retryAfterSeconds ?? 60)}.`;
  if (reason === 'wrong-pin') return wrongPinMessage(retryAfterSeconds);
  return FIXED[reason] ?? 'Offline PINs are unavailable right now — use your password.';
}
