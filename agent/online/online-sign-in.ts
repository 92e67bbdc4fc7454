/**
 * Online sign-in, the workstation's half (docs/online-protocol.md "Online sign-in"): a fresh
 * challenge through the Control Center to the user's phone, and an approval checked here with
 * the key stored at pairing — the Control Center can relay, never forge. A success clears the
 * anti-hammering disable and is followed by a replenishment (R9).
 */
import { checkApproval } from '../../protocol/online/approvals.js';
import { fromBase64url, toBase64url } from '../../protocol/online/base64url.js';
import { AuthStatusResponseSchema, CreateAuthResponseSchema } from '../../protocol/online/http-bodies.js';
import { MAX_AUTH_REQUEST_TTL_MS } from '../../protocol/online/http-bodies.js';
import { ApiError } from '../../platform/api-client.js';
import { FRESH_HAMMERING } from '../offline-pin/anti-hammering.js';
import { sealMissingCopiesAfterRelease } from '../offline-pin/credential-copies.js';
import type { WindowsCredentialState } from '../state/windows-credential.js';
import { emptyUserState } from '../state/user-state.js';
import { auditOnline, updateUser, type OnlineContext } from './online-context.js';
import { randomBytes } from '../../protocol/crypto/hashes.js';
import {
  buildCredentialAsk,
  logonCredentialFromRelease,
  type CredentialHolderState,
} from './phone-credential-release.js';
import type { CredentialOpening } from './phone-credential-release.js';

export const WAIT_SLICE_S = 25;
/** How long an approval the phone started (a tap, R3) stays good for the lock screen. */
export const PRE_APPROVAL_MS = 60_000;

export type SignInResult =
  | {
      ok: true;
      deviceId: string;
      /** Only when asked (a Windows lock screen from SYSTEM, docs/windows.md §5): the logon credential, or why there is none. */
      credential?: CredentialOpening;
    }
  | {
      ok: false;
      code: 'offline' | 'service-refused' | 'not-managed' | 'no-device' | 'denied' | 'timeout' | 'bad-approval';
      message: string;
    };

export class OnlineSignIn {
  readonly #preApproved = new Map<string, { deviceId: string; until: number }>();

  constructor(
    private readonly ctx: OnlineContext,
    private readonly onSuccess: (user: string, deviceId: string) => void,
  ) {}

  /** Whether the user has a phone this workstation trusts. */
  async hasDevice(user: string): Promise<boolean> {
    return ((await this.ctx.store.read(user))?.devices.length ?? 0) > 0;
  }

  /** Consumes an approval the phone made in the last minute, if any. */
  takePreApproval(user: string): string | null {
    const entry = this.#preApproved.get(user);
    this.#preApproved.delete(user);
    return entry && entry.until > Date.now() ? entry.deviceId : null;
  }

  /**
   * `wantsCredential`: ask the phone to release the user's Windows password (docs/windows.md §6.5).
   * Only a Windows lock-screen connection from SYSTEM sets it; on Linux the agent never asks.
   */
  async signIn(
    user: string,
    waitMs: number,
    intentId?: string,
    signal?: AbortSignal,
    wantsCredential = false,
  ): Promise<SignInResult> {
    const state = (await this.ctx.store.read(user)) ?? emptyUserState(user);
    if (state.devices.length === 0)
      return { ok: false, code: 'no-device', message: 'no phone is paired for this user on this workstation' };
    const { link } = this.ctx;
    const challenge = toBase64url(randomBytes(32));
    const context = { challenge, user, workstationId: link.workstationId };
    const holder: CredentialHolderState = state;
    const ask = wantsCredential ? await buildCredentialAsk(holder, context, link.loaded.privateKey) : null;
    const deadline = Date.now() + waitMs;
    let requestId: string;
    try {
      const created = await link.call(
        'POST',
        '/v1/workstation/auth-requests',
        {
          user,
          challenge,
          ttlMs: Math.min(Math.max(waitMs, 1000), MAX_AUTH_REQUEST_TTL_MS),
          ...(intentId ? { intentId } : {}),
          ...(ask ? { credential: ask.body } : {}),
        },
        CreateAuthResponseSchema,
        1_500,
        signal,
      );
      requestId = created.requestId;
      for (;;) {
        const left = deadline - Date.now();
        if (left <= 0 || signal?.aborted)
          return { ok: false, code: 'timeout', message: 'the phone did not answer in time' };
        const wait = Math.max(1, Math.min(WAIT_SLICE_S, Math.floor(left / 1000)));
        const status = await link.call(
          'GET',
          `/v1/workstation/auth-requests/${requestId}?wait=${wait}`,
          undefined,
          AuthStatusResponseSchema,
          Math.min(left, wait * 1000) + 2_000,
          signal,
        );
        if (!('signature' in status)) {
          if (status.status === 'pending') continue;
          return { ok: false, code: 'timeout', message: 'the sign-in request expired' };
        }
        const device = state.devices.find((known) => known.deviceId === status.deviceId);
        const fields = {
          requestId,
          workstationId: link.workstationId,
          user,
          challenge,
          decision: status.decision,
          deviceId: status.deviceId,
          signedAt: status.signedAt,
          ...(status.release === undefined ? {} : { release: status.release }),
        };
        if (!device || !(await checkApproval(fields, status.signature, fromBase64url(device.signingKey)))) {
          this.ctx.log.error('online-auth.bad-approval', { user, deviceId: status.deviceId, known: Boolean(device) });
          auditOnline(this.ctx, {
            event: 'online-auth',
            user,
            authenticatorId: status.deviceId,
            result: 'rejected',
            reason: 'bad-approval',
            remaining: null,
          });
          return {
            ok: false,
            code: 'bad-approval',
            message: 'the answer was not signed by a phone paired for this user',
          };
        }
        if (status.decision === 'deny') {
          auditOnline(this.ctx, {
            event: 'online-auth',
            user,
            authenticatorId: device.deviceId,
            result: 'rejected',
            reason: 'denied',
            remaining: null,
          });
          return { ok: false, code: 'denied', message: 'the sign-in was denied on the phone' };
        }
        await this.#recordSuccess(user, device.deviceId);
        if (intentId) this.#preApproved.set(user, { deviceId: device.deviceId, until: Date.now() + PRE_APPROVAL_MS });
        if (!wantsCredential) return { ok: true, deviceId: device.deviceId };
        const opened = holder.windowsCredential;
        const credential =
          ask && opened
            ? await logonCredentialFromRelease(ask, { ...status, requestId }, context, opened, (password) =>
                this.#sealMissingCopies(user, opened, password),
              )
            : ({ ok: false, code: 'no-copy', message: 'no phone here holds a copy of the password' } as const);
        if (!credential.ok) this.ctx.log.warn('online-auth.no-credential', { user, reason: credential.code });
        return { ok: true, deviceId: device.deviceId, credential };
      }
    } catch (error) {
      if (error instanceof ApiError && error.offline)
        return { ok: false, code: 'offline', message: 'the Control Center cannot be reached' };
      if (error instanceof ApiError)
        return {
          ok: false,
          code: 'service-refused',
          message: `the Control Center refused the sign-in request (${error.code})`,
        };
      throw error;
    }
  }

  /** docs/windows.md §6.6: while a release holds the password open, the copies live holders lack, made durable before the reply. */
  async #sealMissingCopies(user: string, opened: WindowsCredentialState, password: Uint8Array): Promise<void> {
    await updateUser(this.ctx, user, async (state) => {
      const next = await sealMissingCopiesAfterRelease(state, opened, password);
      return { next: next === state ? null : next, result: undefined };
    });
  }

  async #recordSuccess(user: string, deviceId: string): Promise<void> {
    const now = this.ctx.clock.now();
    await updateUser(this.ctx, user, (state) => ({
      next: { ...state, onlineAuthAtMs: now.wallMs, hammering: FRESH_HAMMERING },
      result: undefined,
    }));
    auditOnline(this.ctx, {
      event: 'online-auth',
      user,
      authenticatorId: deviceId,
      result: 'accepted',
      reason: null,
      remaining: null,
    });
    this.ctx.log.info('online-auth', { user, deviceId, result: 'accepted' });
    this.onSuccess(user, deviceId);
  }
}
