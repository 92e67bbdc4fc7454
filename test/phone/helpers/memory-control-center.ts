/**
 * An in-memory stand-in for the Control Center's device API, for unit tests of the phone core
 * only (integration tests use the real server). It speaks the real contract: request bodies
 * are checked with the schemas of protocol/online/http-bodies.ts, device requests with
 * checkRequestSignature, the redemption with checkDeviceProof; answers are what those schemas
 * allow. Time is the test's FakeClock. The workstation side lives in memory-workstation.ts.
 */
import * as v from 'valibot';
import type { FetchLike } from '../../../platform/api-client.js';
import { fromBase64url, toBase64url } from '../../../protocol/online/base64url.js';
import { newId } from '../../../protocol/online/ids.js';
import { ConfirmPoolRequestSchema, DecisionRequestSchema } from '../../../protocol/online/http-bodies.js';
import { RedeemPairingRequestSchema, SignInIntentRequestSchema } from '../../../protocol/online/http-bodies.js';
import { checkDeviceProof } from '../../../protocol/online/pairing-keys.js';
import type { PoolEnvelope } from '../../../protocol/online/pool-envelope.js';
import { checkRequestSignature } from '../../../protocol/online/request-signing.js';
import { DEFAULT_POLICY, type Policy } from '../../../protocol/policy-settings.js';
import type { FakeClock } from './fake-clock.js';

export interface CcPairing {
  pairingId: string;
  workstationId: string;
  user: string;
  workstationMac?: string;
  redeemed?: {
    deviceId: string;
    signingKey: string;
    boxKey: string;
    name: string;
    credentialKey?: string;
    deviceMac: string;
  };
  used: boolean;
}
export interface CcAuthRequest {
  requestId: string;
  workstationId: string;
  user: string;
  challenge: string;
  createdAt: number;
  expiresAt: number;
  intentId: string | null;
  decision?: { deviceId: string; decision: 'approve' | 'deny'; signedAt: number; signature: string };
}
export interface CcDelivery {
  deliveryId: string;
  workstationId: string;
  user: string;
  deviceId: string;
  envelope: PoolEnvelope;
  confirmed?: { poolId: string; signature: string };
}
export interface CcWorkstation {
  workstationId: string;
  name: string;
  publicKey: string;
  settings: Policy;
}

type Reply = { status: number; body?: unknown };
const error = (status: number, code: string, message: string): Reply => ({
  status,
  body: { error: { code, message } },
});

export class MemoryControlCenter {
  readonly workstations = new Map<string, CcWorkstation>();
  readonly pairings = new Map<string, CcPairing>();
  readonly devices = new Map<string, { signingKey: string; boxKey: string; name: string }>();
  readonly bindings: { deviceId: string; workstationId: string; user: string }[] = [];
  readonly authRequests = new Map<string, CcAuthRequest>();
  readonly deliveries = new Map<string, CcDelivery>();
  readonly calls: string[] = [];
  /** False: every request fails as a dead network would. */
  reachable = true;
  /** Called when a phone posts a sign-in intent (the workstation's inbox, in short). */
  onIntent: (intent: { intentId: string; workstationId: string; user: string; deviceId: string }) => void = () =>
    undefined;
  onDecision: (request: CcAuthRequest) => void = () => undefined;
  #waiters = new Set<() => void>();

  constructor(readonly clock: FakeClock) {}

  /** Wakes long-polls (something was added). */
  notify(): void {
    for (const wake of [...this.#waiters]) wake();
  }

  addWorkstation(
    workstationId: string,
    name: string,
    publicKey: string,
    settings: Partial<Policy> = {},
  ): CcWorkstation {
    const ws = { workstationId, name, publicKey, settings: { ...DEFAULT_POLICY, ...settings } };
    this.workstations.set(workstationId, ws);
    return ws;
  }

  readonly fetch: FetchLike = async (url, init) => {
    if (!this.reachable) throw new TypeError('fetch failed');
    const { pathname, search } = new URL(url);
    this.calls.push(`${init.method} ${pathname}`);
    const text = init.body ? new TextDecoder().decode(init.body) : '';
    const reply = await this.#route(init.method, pathname + search, text, init.headers, init.signal);
    const bytes = reply.body === undefined ? new Uint8Array() : new TextEncoder().encode(JSON.stringify(reply.body));
    return {
      status: reply.status,
      arrayBuffer: async () => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
    };
  };

  async #route(
    method: string,
    path: string,
    text: string,
    headers: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<Reply> {
    const json = text === '' ? undefined : JSON.parse(text);
    if (method === 'POST' && path === '/v1/devices/pair') return this.#redeem(json);
    const check = await checkRequestSignature(
      { method, path, body: new TextEncoder().encode(text) },
      headers,
      async (id) => (this.devices.has(id) ? fromBase64url(this.devices.get(id)!.signingKey) : null),
      this.clock.now(),
    );
    if (!check.ok) return error(401, 'unauthenticated', check.message);
    const deviceId = check.keyId;
    const bound = (workstationId: string, user: string) =>
      this.bindings.some((b) => b.deviceId === deviceId && b.workstationId === workstationId && b.user === user);
    const inbox = method === 'GET' ? path.match(/^\/v1\/device\/inbox\?wait=(\d+)$/) : null;
    if (inbox) return this.#inbox(deviceId, Number(inbox[1]), signal);
    if (method === 'GET' && path === '/v1/device/workstations') {
      const list = this.bindings
        .filter((b) => b.deviceId === deviceId)
        .map((b) => ({
          workstationId: b.workstationId,
          workstationName: this.workstations.get(b.workstationId)!.name,
          user: b.user,
          settings: this.workstations.get(b.workstationId)!.settings,
        }));
      return { status: 200, body: { workstations: list } };
    }
    if (method === 'POST' && path === '/v1/device/sign-in') {
      const body = v.safeParse(SignInIntentRequestSchema, json);
      if (!body.success) return error(400, 'bad-request', body.issues[0]!.message);
      if (!bound(body.output.workstationId, body.output.user)) return error(403, 'forbidden', 'not paired');
      const intentId = newId('in');
      this.onIntent({ intentId, workstationId: body.output.workstationId, user: body.output.user, deviceId });
      return { status: 201, body: { intentId, expiresAt: this.clock.now() + 60_000 } };
    }
    const decision = method === 'POST' ? path.match(/^\/v1\/device\/auth-requests\/([^/]+)\/decision$/) : null;
    if (decision) {
      const body = v.safeParse(DecisionRequestSchema, json);
      if (!body.success) return error(400, 'bad-request', body.issues[0]!.message);
      const request = this.authRequests.get(decision[1]!);
      if (!request || !bound(request.workstationId, request.user)) return error(404, 'not-found', 'no such request');
      if (request.expiresAt <= this.clock.now()) return error(410, 'gone', 'expired');
      if (request.decision) return error(409, 'conflict', 'already decided');
      request.decision = { deviceId, ...body.output };
      this.onDecision(request);
      return {
        status: 200,
        body: { status: body.output.decision === 'approve' ? 'approved' : 'denied', ...request.decision },
      };
    }
    const confirm = method === 'POST' ? path.match(/^\/v1\/device\/pool-deliveries\/([^/]+)\/confirm$/) : null;
    if (confirm) {
      const body = v.safeParse(ConfirmPoolRequestSchema, json);
      if (!body.success) return error(400, 'bad-request', body.issues[0]!.message);
      const delivery = this.deliveries.get(confirm[1]!);
      if (!delivery || delivery.deviceId !== deviceId) return error(404, 'not-found', 'no such delivery');
      delivery.confirmed = body.output;
      return { status: 200, body: { status: 'confirmed', ...body.output } };
    }
    return error(404, 'not-found', `no route ${method} ${path}`);
  }

  async #redeem(json: unknown): Promise<Reply> {
    const body = v.safeParse(RedeemPairingRequestSchema, json);
    if (!body.success) return error(400, 'bad-request', body.issues[0]!.message);
    const { pairingId, signingKey, boxKey, name, credentialKey, proof, deviceMac } = body.output;
    const pairing = this.pairings.get(pairingId);
    if (!pairing) return error(404, 'not-found', 'no such pairing');
    if (pairing.used || pairing.redeemed) return error(410, 'gone', 'pairing used');
    if (!pairing.workstationMac) return error(409, 'conflict', 'not ready');
    if (!(await checkDeviceProof({ pairingId, signingKey, boxKey, name, credentialKey }, proof)))
      return error(400, 'bad-request', 'proof does not verify');
    const known = [...this.devices].find(([, d]) => d.signingKey === signingKey);
    const deviceId = known?.[0] ?? newId('dev');
    this.devices.set(deviceId, { signingKey, boxKey, name });
    pairing.redeemed = { deviceId, signingKey, boxKey, name, ...(credentialKey ? { credentialKey } : {}), deviceMac };
    const ws = this.workstations.get(pairing.workstationId)!;
    return {
      status: 200,
      body: {
        deviceId,
        workstationId: ws.workstationId,
        workstationName: ws.name,
        workstationKey: ws.publicKey,
        user: pairing.user,
        ccKey: CC_KEY,
        workstationMac: pairing.workstationMac,
      },
    };
  }

  async #inbox(deviceId: string, wait: number, signal?: AbortSignal): Promise<Reply> {
    const collect = () => {
      const now = this.clock.now();
      const authRequests = [...this.authRequests.values()]
        .filter(
          (r) =>
            !r.decision &&
            r.expiresAt > now &&
            this.bindings.some(
              (b) => b.deviceId === deviceId && b.workstationId === r.workstationId && b.user === r.user,
            ),
        )
        .map((r) => ({
          requestId: r.requestId,
          workstationId: r.workstationId,
          workstationName: this.workstations.get(r.workstationId)!.name,
          user: r.user,
          challenge: r.challenge,
          createdAt: r.createdAt,
          expiresAt: r.expiresAt,
          intentId: r.intentId,
        }));
      const poolDeliveries = [...this.deliveries.values()]
        .filter((d) => d.deviceId === deviceId && !d.confirmed)
        .map((d) => ({ deliveryId: d.deliveryId, workstationId: d.workstationId, user: d.user, envelope: d.envelope }));
      return { authRequests, poolDeliveries };
    };
    let found = collect();
    if (wait > 0 && found.authRequests.length + found.poolDeliveries.length === 0) {
      const stop = new AbortController();
      const woken = new Promise<void>((resolve) => {
        this.#waiters.add(resolve);
        stop.signal.addEventListener('abort', () => this.#waiters.delete(resolve));
      });
      const slept = this.clock.sleep(wait * 1000, stop.signal).catch(() => undefined);
      const aborted = new Promise<'aborted'>((resolve) => {
        if (signal?.aborted) resolve('aborted');
        signal?.addEventListener('abort', () => resolve('aborted'), { once: true });
      });
      const outcome = await Promise.race([woken, slept, aborted]);
      stop.abort();
      if (outcome === 'aborted') throw new DOMException('aborted', 'AbortError');
      found = collect();
    }
    return { status: 200, body: found };
  }
}

/** A fixed CC public key: the phone only stores it (the pairing MAC covers it). */
export const CC_KEY = toBase64url(new Uint8Array(32).fill(7));
