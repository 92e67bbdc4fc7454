/**
 * The workstation side of the phone's integration tests: a workstation enrolled with the real
 * Control Center (test/control-center/helpers.ts), doing what the agent does through the real
 * protocol functions — pairing MACs, auth requests, answering sign-in intents, sealing pools —
 * and checking what the phone signed with the key it accepted at pairing.
 */
import * as v from 'valibot';
import { checkApproval, checkPoolConfirm } from '../../../protocol/online/approvals.js';
import { fromBase64url, toBase64url } from '../../../protocol/online/base64url.js';
import { newId } from '../../../protocol/online/ids.js';
import { AuthStatusResponseSchema, CreateAuthResponseSchema } from '../../../protocol/online/http-bodies.js';
import { PairingStatusResponseSchema, PoolDeliveryStatusResponseSchema } from '../../../protocol/online/http-bodies.js';
import { WorkstationInboxResponseSchema } from '../../../protocol/online/http-bodies.js';
import { checkMac, deviceMac, formatPairingCode } from '../../../protocol/online/pairing-keys.js';
import { sealPoolEnvelope, type PoolContents } from '../../../protocol/online/pool-envelope.js';
import { deriveOfflinePin, formatPinForDisplay } from '../../../protocol/offline-pin.js';
import { CALL, enroll, installToken, openPairing, type TestCc } from '../../control-center/helpers.js';
import type { TestWorkstation } from '../../control-center/helpers.js';
import { randomBytes } from '../../../protocol/crypto/hashes.js';

const any = v.unknown();

export class CcWorkstation {
  /** Device keys accepted at pairing, by `${deviceId} ${user}`: what approvals are checked against. */
  readonly devices = new Map<string, { signingKey: Uint8Array; boxKey: Uint8Array }>();
  #answering = false;

  private constructor(
    readonly t: TestCc,
    readonly ws: TestWorkstation,
    readonly name: string,
  ) {}

  static async enroll(t: TestCc, name: string): Promise<CcWorkstation> {
    return new CcWorkstation(t, await enroll(t, await installToken(t), name), name);
  }

  get id(): string {
    return this.ws.id;
  }

  /** Opens a pairing for `user` and returns the code the screen shows, and a function that finishes it. */
  async pairingCode(user: string): Promise<{ code: string; accept: () => Promise<string> }> {
    const { pairingId, secret, pairingKey } = await openPairing(this.ws, user);
    const accept = async () => {
      const status = await this.ws.client.call(
        'GET',
        `/v1/workstation/pairings/${pairingId}?wait=10`,
        undefined,
        PairingStatusResponseSchema,
        CALL,
      );
      if (status.status !== 'redeemed') throw new Error(`pairing is ${status.status}`);
      const { device } = status;
      const ok = await checkMac(deviceMac(pairingKey, { pairingId, ...device }), fromBase64url(device.deviceMac));
      await this.ws.client.call('POST', `/v1/workstation/pairings/${pairingId}/confirm`, { accept: ok }, any, CALL);
      if (!ok) throw new Error('device MAC does not verify');
      this.devices.set(`${device.deviceId} ${user}`, {
        signingKey: fromBase64url(device.signingKey),
        boxKey: fromBase64url(device.boxKey),
      });
      return device.deviceId;
    };
    return { code: formatPairingCode(pairingId, secret), accept };
  }

  async createAuthRequest(user: string, intentId?: string): Promise<{ requestId: string; challenge: string }> {
    const challenge = toBase64url(randomBytes(32));
    const { requestId } = await this.ws.client.call(
      'POST',
      '/v1/workstation/auth-requests',
      { user, challenge, ttlMs: 60_000, ...(intentId ? { intentId } : {}) },
      CreateAuthResponseSchema,
      CALL,
    );
    return { requestId, challenge };
  }

  /** Waits for the phone's decision and checks it as the agent does; true only for a verified approval. */
  async approvedByPhone(user: string, request: { requestId: string; challenge: string }): Promise<boolean> {
    const status = await this.ws.client.call(
      'GET',
      `/v1/workstation/auth-requests/${request.requestId}?wait=20`,
      undefined,
      AuthStatusResponseSchema,
      { timeoutMs: 25_000 },
    );
    if (status.status !== 'approved') return false;
    const key = this.devices.get(`${status.deviceId} ${user}`);
    if (!key) return false;
    return checkApproval(
      {
        requestId: request.requestId,
        workstationId: this.id,
        user,
        challenge: request.challenge,
        decision: status.decision,
        deviceId: status.deviceId,
        signedAt: status.signedAt,
      },
      status.signature,
      key.signingKey,
    );
  }

  /** Answers phone-initiated sign-ins (R3) until stopped, as the agent's inbox loop does; resolves each auth request it made. */
  answerIntents(
    onRequest: (user: string, request: { requestId: string; challenge: string }) => void = () => undefined,
  ): () => void {
    this.#answering = true;
    void (async () => {
      while (this.#answering) {
        const inbox = await this.ws.client
          .call('GET', '/v1/workstation/inbox?wait=2', undefined, WorkstationInboxResponseSchema, CALL)
          .catch(() => ({ intents: [] }));
        for (const intent of inbox.intents) {
          if (!this.#answering) break;
          const request = await this.createAuthRequest(intent.user, intent.intentId).catch(() => null);
          if (request) onRequest(intent.user, request);
        }
      }
    })();
    return () => {
      this.#answering = false;
    };
  }

  /** Seals a new pool to the phone and hands it to the CC (R9, step 1). */
  async deliverPool(
    user: string,
    deviceId: string,
    format: { count?: number; length?: number } = {},
  ): Promise<{ seed: Uint8Array; contents: PoolContents }> {
    const seed = randomBytes(32);
    const contents: PoolContents = {
      deliveryId: newId('pd'),
      poolId: newId('pool'),
      workstationId: this.id,
      user,
      seed: toBase64url(seed),
      charset: 'alphanumeric',
      length: format.length ?? 8,
      counter: 0,
      count: format.count ?? 25,
      issuedAt: this.t.clock.now(),
    };
    const envelope = await sealPoolEnvelope(
      contents,
      deviceId,
      this.devices.get(`${deviceId} ${user}`)!.boxKey,
      this.ws.key.privateKey,
    );
    await this.ws.client.call(
      'PUT',
      `/v1/workstation/pool-deliveries/${contents.deliveryId}`,
      { user, deviceId, envelope },
      PoolDeliveryStatusResponseSchema,
      CALL,
    );
    return { seed, contents };
  }

  /** The phone's confirmation as the agent checks it (R9, step 3). */
  async confirmedByPhone(user: string, deviceId: string, deliveryId: string): Promise<boolean> {
    const status = await this.ws.client.call(
      'GET',
      `/v1/workstation/pool-deliveries/${deliveryId}?wait=10`,
      undefined,
      PoolDeliveryStatusResponseSchema,
      { timeoutMs: 15_000 },
    );
    if (status.status !== 'confirmed') return false;
    return checkPoolConfirm(
      { deliveryId, poolId: status.poolId, deviceId, workstationId: this.id, user },
      status.signature,
      this.devices.get(`${deviceId} ${user}`)!.signingKey,
    );
  }
}

/** The PIN for `counter` as the workstation derives it from the seed it sealed. */
export function workstationPin(seed: Uint8Array, counter: number, length = 8): string {
  return formatPinForDisplay(deriveOfflinePin(seed, counter, { charset: 'alphanumeric', length }), 'alphanumeric');
}
