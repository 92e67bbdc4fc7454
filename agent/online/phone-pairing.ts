/**
 * Pairing a phone with (user, this workstation) — the workstation's half of
 * docs/online-protocol.md "Pairing": create the pairing, MAC our keys with the stretched secret,
 * wait for the phone, check its MAC, and only then trust its keys (kept in the user's sealed state).
 */
import { fromBase64url, toBase64url } from '../../protocol/online/base64url.js';
import type { AccountId } from '../../platform/ipc-transport.js';
import { type ConfirmPairingRequestSchema, CreatePairingResponseSchema } from '../../protocol/online/http-bodies.js';
import { PairingStatusResponseSchema } from '../../protocol/online/http-bodies.js';
import { derivePairingKey, deviceMac, formatPairingCode } from '../../protocol/online/pairing-keys.js';
import { newPairingSecret, workstationMac } from '../../protocol/online/pairing-keys.js';
import * as v from 'valibot';
import type { PairedDevice } from '../state/user-state.js';
import { auditOnline, updateUser, type OnlineContext } from './online-context.js';
import { equalBytes } from '../../protocol/crypto/hashes.js';

export const PAIRING_WAIT_SLICE_S = 25;

/** Who asks the agent to start or finish a pairing (docs/ipc.md ops 8–9). */
export interface PairingCaller {
  readonly uid: AccountId;
  /** root, or the agent's own uid */
  readonly admin: boolean;
}

interface OpenPairing {
  readonly user: string;
  /** Only the uid that started it (or an admin) may finish it. */
  readonly starterUid: AccountId;
  readonly pairingKey: Uint8Array;
  readonly expiresAt: number;
}

export type PairingOutcome =
  | { ok: true; device: PairedDevice }
  | { ok: false; code: 'pairing-expired' | 'pairing-mac' | 'pairing-unknown' | 'pairing-timeout'; message: string };

export class Pairings {
  readonly #open = new Map<string, OpenPairing>();

  constructor(private readonly ctx: OnlineContext) {}

  /** Creates a pairing and returns the code for the screen (the secret lives only in memory here). */
  async start(user: string, caller: PairingCaller): Promise<{ pairingId: string; code: string; expiresAt: number }> {
    const { link } = this.ctx;
    const created = await link.call('POST', '/v1/workstation/pairings', { user }, CreatePairingResponseSchema, 5_000);
    const secret = newPairingSecret();
    const pairingKey = await derivePairingKey(created.pairingId, secret);
    const identity = link.loaded.identity;
    const mac = await workstationMac(pairingKey, {
      pairingId: created.pairingId,
      workstationId: identity.workstationId,
      workstationKey: identity.publicKey,
      user,
      ccKey: identity.ccKey,
    });
    await link.call(
      'PUT',
      `/v1/workstation/pairings/${created.pairingId}`,
      { workstationMac: toBase64url(mac) },
      v.unknown(),
      5_000,
    );
    this.#open.set(created.pairingId, { user, starterUid: caller.uid, pairingKey, expiresAt: created.expiresAt });
    return {
      pairingId: created.pairingId,
      code: formatPairingCode(created.pairingId, secret),
      expiresAt: created.expiresAt,
    };
  }

  /** Waits for the phone (up to `waitMs`), checks its MAC, and binds it to the user if it holds. */
  async finish(user: string, pairingId: string, waitMs: number, caller: PairingCaller): Promise<PairingOutcome> {
    const open = this.#open.get(pairingId);
    // Someone else's pairing is as unknown to this caller as one that never existed.
    if (!open || open.user !== user || (!caller.admin && caller.uid !== open.starterUid)) {
      return {
        ok: false,
        code: 'pairing-unknown',
        message: 'this agent did not start that pairing for you (or was restarted since)',
      };
    }
    const deadline = Date.now() + waitMs;
    for (;;) {
      const left = Math.min(deadline, open.expiresAt) - Date.now();
      if (left <= 0) {
        if (Date.now() >= open.expiresAt) return this.#close(pairingId, 'pairing-expired');
        return {
          ok: false,
          code: 'pairing-timeout',
          message: 'no phone used the code yet; the code stays valid until it expires',
        };
      }
      const wait = Math.max(1, Math.min(PAIRING_WAIT_SLICE_S, Math.floor(left / 1000)));
      const status = await this.ctx.link.call(
        'GET',
        `/v1/workstation/pairings/${pairingId}?wait=${wait}`,
        undefined,
        PairingStatusResponseSchema,
        (wait + 5) * 1000,
      );
      if (status.status === 'pending') continue;
      if (status.status !== 'redeemed') return this.#close(pairingId, 'pairing-expired');
      const device = status.device;
      const expected = await deviceMac(open.pairingKey, {
        pairingId,
        signingKey: device.signingKey,
        boxKey: device.boxKey,
        name: device.name,
        ...(device.credentialKey === undefined ? {} : { credentialKey: device.credentialKey }),
      });
      const accept = equalBytes(expected, fromBase64url(device.deviceMac));
      await this.ctx.link.call(
        'POST',
        `/v1/workstation/pairings/${pairingId}/confirm`,
        { accept } satisfies v.InferInput<typeof ConfirmPairingRequestSchema>,
        v.unknown(),
        5_000,
      );
      if (!accept) {
        auditOnline(this.ctx, {
          event: 'pairing',
          user: open.user,
          authenticatorId: device.deviceId,
          result: 'rejected',
          reason: 'pairing-mac',
          remaining: null,
        });
        return this.#close(pairingId, 'pairing-mac');
      }
      const paired: PairedDevice = {
        deviceId: device.deviceId,
        name: device.name,
        signingKey: device.signingKey,
        boxKey: device.boxKey,
        ...(device.credentialKey === undefined ? {} : { credentialKey: device.credentialKey }),
        pairedAtMs: this.ctx.clock.now().wallMs,
      };
      await updateUser(this.ctx, open.user, (state) => ({
        next: { ...state, devices: [...state.devices.filter((known) => known.deviceId !== paired.deviceId), paired] },
        result: undefined,
      }));
      auditOnline(this.ctx, {
        event: 'pairing',
        user: open.user,
        authenticatorId: device.deviceId,
        result: 'ok',
        reason: null,
        remaining: null,
      });
      this.ctx.log.info('pairing.confirmed', { user: open.user, deviceId: device.deviceId });
      this.#forget(pairingId);
      return { ok: true, device: paired };
    }
  }

  #close(pairingId: string, code: 'pairing-expired' | 'pairing-mac'): PairingOutcome {
    this.#forget(pairingId);
    const message =
      code === 'pairing-expired'
        ? 'the pairing code expired before a phone used it'
        : 'the phone did not prove it knew the code: the pairing was refused';
    return { ok: false, code, message };
  }

  #forget(pairingId: string): void {
    this.#open.get(pairingId)?.pairingKey.fill(0);
    this.#open.delete(pairingId);
  }
}
