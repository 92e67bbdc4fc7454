/**
 * The IPC operations of the online side (docs/ipc.md ops 7–10): what the lock screen and the
 * CLI ask of online sign-in, pairing and enrollment. Authorisation happened before these run
 * (agent-service.ts); each answers with a reply the offline side could have given, never throws.
 */
import { hostname } from 'node:os';
import { ApiError } from '../../platform/api-client.js';
import type { Reply } from '../../protocol/ipc-messages.js';
import type { Logger } from '../../platform/log.js';
import type { OnlineService } from './online-service.js';
import type { PairingCaller } from './phone-pairing.js';

type Answer = Omit<Reply, 'requestId'>;

/** Each names the cause (docs/pam.md "What the person is told"): the Control Center, not the phone, when it is the Control Center. */
const SIGN_IN_MESSAGES = {
  accepted: 'Approved on your phone — unlocked.',
  offline: 'The sign-in service cannot be reached right now — type an offline PIN or your password.',
  'service-refused':
    "The sign-in service refused this computer's request — type an offline PIN or your password, and tell IT.",
  'not-managed': 'This computer is not set up for sign-in with your phone.',
  'no-device': 'No phone is paired for you on this computer.',
  denied: 'The sign-in was denied on your phone.',
  timeout: 'No answer from your phone — type an offline PIN or your password.',
  'bad-approval': 'The answer did not come from your paired phone — use an offline PIN or your password.',
} as const;

/** The answer when this computer has no Control Center to pair through. */
const notManaged = (message: string): Answer => ({ status: 'unavailable', reason: 'not-managed', message });

export class OnlineOps {
  constructor(
    private readonly online: OnlineService,
    private readonly log: Logger,
  ) {}

  /**
   * Op 10. `wantsCredential` only for a Windows lock-screen connection from SYSTEM: an accepted
   * reply then carries the logon credential in `secret` (docs/windows.md §5) when the phone released it.
   */
  async signIn(user: string, waitMs: number, context: string, wantsCredential = false): Promise<Answer> {
    const result = await this.online.signIn(user, waitMs, wantsCredential);
    this.log.info('online-auth.request', { user, context, result: result.ok ? 'accepted' : result.code });
    if (result.ok && result.credential?.ok)
      return {
        status: 'accepted',
        message: SIGN_IN_MESSAGES.accepted,
        secret: result.credential.logonCredential,
        generation: result.credential.generation,
      };
    if (result.ok) return { status: 'accepted', message: SIGN_IN_MESSAGES.accepted };
    const status = result.code === 'denied' || result.code === 'bad-approval' ? 'rejected' : 'unavailable';
    return { status, reason: result.code, message: SIGN_IN_MESSAGES[result.code] };
  }

  async pair(user: string, caller: PairingCaller): Promise<Answer> {
    const pairings = this.online.pairings;
    if (!pairings)
      return notManaged('This computer is not enrolled with a Control Center, so phones cannot be paired yet.');
    try {
      const started = await pairings.start(user, caller);
      return {
        status: 'ok',
        secret: new TextEncoder().encode(started.code),
        message: `Type this code into the Latchkey app on your phone within ${Math.round((started.expiresAt - Date.now()) / 60_000)} minutes.`,
        detail: JSON.stringify({
          user,
          pairingId: started.pairingId,
          expiresAt: new Date(started.expiresAt).toISOString(),
        }),
      };
    } catch (error) {
      return this.#controlCenterTrouble(error);
    }
  }

  async finishPairing(user: string, pairingId: string, waitMs: number, caller: PairingCaller): Promise<Answer> {
    const pairings = this.online.pairings;
    if (!pairings) return notManaged('This computer is not enrolled with a Control Center.');
    try {
      const outcome = await pairings.finish(user, pairingId, waitMs, caller);
      if (outcome.ok)
        return {
          status: 'ok',
          message: `Paired ${outcome.device.name}.`,
          detail: JSON.stringify({ deviceId: outcome.device.deviceId, name: outcome.device.name }),
        };
      return { status: 'error', reason: outcome.code, message: outcome.message };
    } catch (error) {
      return this.#controlCenterTrouble(error);
    }
  }

  async enroll(url: string, token: Uint8Array, name: string | undefined): Promise<Answer> {
    try {
      await this.online.enroll(url, new TextDecoder().decode(token), name ?? hostname());
      return { status: 'ok', message: `Enrolled with ${url}; policy from the Control Center is in force.` };
    } catch (error) {
      this.log.error('workstation.enroll-failed', { url, error: error as Error });
      const message =
        error instanceof ApiError
          ? `the Control Center refused the enrollment (${error.code}): ${error.message}`
          : (error as Error).message;
      return { status: 'error', reason: 'enrollment-failed', message: message.slice(0, 500) };
    }
  }

  #controlCenterTrouble(error: unknown): Answer {
    if (error instanceof ApiError) {
      return {
        status: 'unavailable',
        reason: 'offline',
        message: `The Control Center did not help (${error.code}): ${error.message}`.slice(0, 500),
      };
    }
    throw error;
  }
}
