/**
 * The Control Center calls a phone makes (docs/online-protocol.md "Flows"), each with its body
 * schema from protocol/online/http-bodies.ts and a bounded time. Every failure becomes a
 * PhoneError: `unreachable` when the Control Center did not answer (that is "no internet", R4),
 * `refused` with the server's code otherwise.
 */
import type * as v from 'valibot';
import { ApiClient, ApiError, type FetchLike } from '../../platform/api-client.js';
import { AuthStatusResponseSchema, DeviceInboxResponseSchema } from '../../protocol/online/http-bodies.js';
import { PoolDeliveryStatusResponseSchema } from '../../protocol/online/http-bodies.js';
import { DeviceWorkstationsResponseSchema, RedeemPairingResponseSchema } from '../../protocol/online/http-bodies.js';
import { SignInIntentResponseSchema } from '../../protocol/online/http-bodies.js';
import type { CryptoKey } from '../../protocol/crypto/webcrypto.js';
import { PhoneError } from './errors.js';

/** How long the Control Center has to answer before the phone counts as offline (R4). */
export const ONLINE_ANSWER_MS = 1500;
/** Ordinary calls (pairing runs PBKDF2 on the server side too). */
export const CALL_TIMEOUT_MS = 10_000;
/** A long-poll gets this long beyond its `wait`. */
const LONG_POLL_GRACE_MS = 5000;

export type DeviceInbox = v.InferOutput<typeof DeviceInboxResponseSchema>;
import type { ReleaseBody } from '../../protocol/online/credential-release.js';

export type InboxAuthRequest = DeviceInbox['authRequests'][number];
export type InboxPoolDelivery = DeviceInbox['poolDeliveries'][number];
export type DeviceWorkstation = v.InferOutput<typeof DeviceWorkstationsResponseSchema>['workstations'][number];
export type RedeemedPairing = v.InferOutput<typeof RedeemPairingResponseSchema>;

export class DeviceApi {
  readonly #client: ApiClient;

  constructor(
    baseUrl: string,
    options: { fetch?: FetchLike; now: () => number; signer?: { keyId: string; privateKey: CryptoKey } },
  ) {
    this.#client = new ApiClient({
      baseUrl,
      now: options.now,
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.signer ? { signer: options.signer } : {}),
    });
  }

  redeemPairing(body: {
    pairingId: string;
    signingKey: string;
    boxKey: string;
    name: string;
    credentialKey?: string;
    proof: string;
    deviceMac: string;
  }): Promise<RedeemedPairing> {
    return this.#post('/v1/devices/pair', body, RedeemPairingResponseSchema, CALL_TIMEOUT_MS);
  }

  signIn(workstationId: string, user: string): Promise<{ intentId: string; expiresAt: number }> {
    return this.#post('/v1/device/sign-in', { workstationId, user }, SignInIntentResponseSchema, ONLINE_ANSWER_MS);
  }

  /** Long-poll: the server answers at once when something is waiting, else within `waitSeconds`. */
  inbox(waitSeconds: number, signal?: AbortSignal): Promise<DeviceInbox> {
    const wait = Math.max(0, Math.min(30, Math.ceil(waitSeconds)));
    const timeoutMs = wait === 0 ? ONLINE_ANSWER_MS : wait * 1000 + LONG_POLL_GRACE_MS;
    return this.#get(`/v1/device/inbox?wait=${wait}`, DeviceInboxResponseSchema, timeoutMs, signal);
  }

  decide(
    requestId: string,
    body: { decision: 'approve' | 'deny'; signedAt: number; signature: string; release?: ReleaseBody },
  ): Promise<v.InferOutput<typeof AuthStatusResponseSchema>> {
    const path = `/v1/device/auth-requests/${encodeURIComponent(requestId)}/decision`;
    return this.#post(path, body, AuthStatusResponseSchema, CALL_TIMEOUT_MS);
  }

  confirmPool(
    deliveryId: string,
    body: { poolId: string; signature: string },
  ): Promise<v.InferOutput<typeof PoolDeliveryStatusResponseSchema>> {
    const path = `/v1/device/pool-deliveries/${encodeURIComponent(deliveryId)}/confirm`;
    return this.#post(path, body, PoolDeliveryStatusResponseSchema, CALL_TIMEOUT_MS);
  }

  async workstations(): Promise<DeviceWorkstation[]> {
    return (await this.#get('/v1/device/workstations', DeviceWorkstationsResponseSchema, ONLINE_ANSWER_MS))
      .workstations;
  }

  /** A POST bounded by `timeoutMs`; its failure a PhoneError (`guard`). */
  #post<S extends v.GenericSchema>(path: string, body: unknown, schema: S, timeoutMs: number) {
    return guard(this.#client.call('POST', path, body, schema, { timeoutMs }));
  }

  #get<S extends v.GenericSchema>(path: string, schema: S, timeoutMs: number, signal?: AbortSignal) {
    return guard(this.#client.call('GET', path, undefined, schema, { timeoutMs, ...(signal ? { signal } : {}) }));
  }
}

async function guard<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.offline) throw new PhoneError('unreachable', 'The Control Center cannot be reached.', { cause: error });
    if (error.code === 'bad-response')
      throw new PhoneError(
        'bad-response',
        `The Control Center sent an answer this phone cannot use: ${error.message}.`,
        { cause: error },
      );
    throw new PhoneError('refused', `The Control Center refused (${error.code}): ${error.message}`, { cause: error });
  }
}

/** The server's code behind a `refused` PhoneError, or null. */
export function serverCode(error: unknown): string | null {
  return error instanceof PhoneError && error.cause instanceof ApiError ? error.cause.code : null;
}
