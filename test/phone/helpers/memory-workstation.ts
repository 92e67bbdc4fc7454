/**
 * The workstation side of the unit tests, driven by the real protocol functions (pairing MACs,
 * approvals, sealed pool envelopes) against the MemoryControlCenter: what the agent would do.
 */
import { checkApproval, checkPoolConfirm } from '../../../protocol/online/approvals.js';
import { fromBase64url, toBase64url } from '../../../protocol/online/base64url.js';
import { newId } from '../../../protocol/online/ids.js';
import { checkMac, derivePairingKey, deviceMac, formatPairingCode } from '../../../protocol/online/pairing-keys.js';
import { newPairingId, newPairingSecret, workstationMac } from '../../../protocol/online/pairing-keys.js';
import { sealPoolEnvelope } from '../../../protocol/online/pool-envelope.js';
import { ED25519, generateKeyPair, type KeyPair } from '../../../protocol/crypto/webcrypto.js';
import type { PinCharset } from '../../../protocol/offline-pin.js';
import type { Policy } from '../../../protocol/policy-settings.js';
import { CC_KEY, type MemoryControlCenter } from './memory-control-center.js';
import { randomBytes } from '../../../protocol/crypto/hashes.js';
import { newPool } from './new-pool.js';

export class TestWorkstation {
  readonly #pairingKeys = new Map<string, Uint8Array>();
  /** Device signing keys accepted at pairing, by deviceId and user: approvals are checked against these. */
  readonly devices = new Map<string, Uint8Array>();

  private constructor(
    readonly cc: MemoryControlCenter,
    readonly workstationId: string,
    readonly name: string,
    readonly key: KeyPair,
  ) {}

  static async create(cc: MemoryControlCenter, name: string, settings: Partial<Policy> = {}): Promise<TestWorkstation> {
    const key = await generateKeyPair(ED25519);
    const ws = new TestWorkstation(cc, newId('ws'), name, key);
    cc.addWorkstation(ws.workstationId, name, toBase64url(key.publicKey), settings);
    return ws;
  }

  /** `latchkey pair --user U`: a code whose workstation MAC is uploaded. */
  async pairingCode(user: string, options: { tamperMac?: boolean } = {}): Promise<{ code: string; pairingId: string }> {
    const pairingId = newPairingId();
    const secret = newPairingSecret();
    const pairingKey = await derivePairingKey(pairingId, secret);
    this.#pairingKeys.set(pairingId, pairingKey);
    const mac = await workstationMac(pairingKey, {
      pairingId,
      workstationId: this.workstationId,
      workstationKey: toBase64url(this.key.publicKey),
      user,
      ccKey: CC_KEY,
    });
    if (options.tamperMac) mac[0]! ^= 1;
    this.cc.pairings.set(pairingId, {
      pairingId,
      workstationId: this.workstationId,
      user,
      workstationMac: toBase64url(mac),
      used: false,
    });
    return { code: formatPairingCode(pairingId, secret), pairingId };
  }

  /** Step 3: check the device MAC and accept (binds the device at the CC). */
  async acceptPairing(pairingId: string): Promise<void> {
    const pairing = this.cc.pairings.get(pairingId)!;
    const device = pairing.redeemed!;
    const ok = await checkMac(
      deviceMac(this.#pairingKeys.get(pairingId)!, { pairingId, ...device }),
      fromBase64url(device.deviceMac),
    );
    if (!ok) throw new Error('device MAC does not verify');
    pairing.used = true;
    this.devices.set(`${device.deviceId} ${pairing.user}`, fromBase64url(device.signingKey));
    this.cc.bindings.push({ deviceId: device.deviceId, workstationId: this.workstationId, user: pairing.user });
  }

  createAuthRequest(user: string, intentId: string | null = null, ttlMs = 60_000): string {
    const requestId = newId('ar');
    const now = this.cc.clock.now();
    this.cc.authRequests.set(requestId, {
      requestId,
      workstationId: this.workstationId,
      user,
      challenge: toBase64url(randomBytes(32)),
      createdAt: now,
      expiresAt: now + ttlMs,
      intentId,
    });
    this.cc.notify();
    return requestId;
  }

  /** The agent answering phone-initiated sign-ins (R3) at once. */
  answerIntents(): void {
    this.cc.onIntent = (intent) => {
      if (intent.workstationId === this.workstationId) this.createAuthRequest(intent.user, intent.intentId);
    };
  }

  /** What the agent checks before it counts an approval: the signature by the key it paired. */
  async approvalVerifies(requestId: string): Promise<boolean> {
    const request = this.cc.authRequests.get(requestId)!;
    const decision = request.decision!;
    const key = this.devices.get(`${decision.deviceId} ${request.user}`);
    if (!key) return false;
    return checkApproval(
      {
        requestId,
        workstationId: this.workstationId,
        user: request.user,
        challenge: request.challenge,
        decision: decision.decision,
        deviceId: decision.deviceId,
        signedAt: decision.signedAt,
      },
      decision.signature,
      key,
    );
  }

  /** A new pool sealed to the device (R9). Returns the seed so a test can derive the PINs. */
  async deliverPool(
    user: string,
    deviceId: string,
    format: {
      count?: number;
      charset?: PinCharset;
      length?: number;
      issuedAt?: number;
      signWith?: KeyPair;
      sealFor?: Uint8Array;
    } = {},
  ) {
    const { seed, contents } = newPool(this.workstationId, user, format.issuedAt ?? this.cc.clock.now(), format);
    const boxKey = format.sealFor ?? fromBase64url(this.cc.devices.get(deviceId)!.boxKey);
    const envelope = await sealPoolEnvelope(contents, deviceId, boxKey, (format.signWith ?? this.key).privateKey);
    this.cc.deliveries.set(contents.deliveryId, {
      deliveryId: contents.deliveryId,
      workstationId: this.workstationId,
      user,
      deviceId,
      envelope,
    });
    this.cc.notify();
    return { seed, contents };
  }

  async confirmationVerifies(deliveryId: string): Promise<boolean> {
    const delivery = this.cc.deliveries.get(deliveryId)!;
    const key = this.devices.get(`${delivery.deviceId} ${delivery.user}`)!;
    return checkPoolConfirm(
      {
        deliveryId,
        poolId: delivery.confirmed!.poolId,
        deviceId: delivery.deviceId,
        workstationId: this.workstationId,
        user: delivery.user,
      },
      delivery.confirmed!.signature,
      key,
    );
  }
}
