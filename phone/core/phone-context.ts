/** What every phone flow works with: the injected ports, the device keys, and signed API clients. */
import type { FetchLike } from '../../platform/api-client.js';
import { DeviceApi } from './device-api.js';
import type { DeviceKeys } from './device-keys.js';
import type { Clock, Connectivity, PhoneStore } from './ports.js';

export interface PhoneContext {
  readonly store: PhoneStore;
  readonly clock: Clock;
  readonly connectivity: Connectivity;
  readonly keys: DeviceKeys;
  /** A client that signs as `deviceId` (docs/online-protocol.md "Request authentication"). */
  api(endpoint: { url: string; deviceId: string }): DeviceApi;
  /** An unsigned client, for redeeming a pairing code. */
  anonymousApi(url: string): DeviceApi;
}

export function makeContext(
  ports: { store: PhoneStore; clock: Clock; connectivity: Connectivity; fetch?: FetchLike },
  keys: DeviceKeys,
): PhoneContext {
  const now = () => ports.clock.now();
  const options = ports.fetch ? { fetch: ports.fetch, now } : { now };
  return {
    store: ports.store,
    clock: ports.clock,
    connectivity: ports.connectivity,
    keys,
    api: (endpoint) =>
      new DeviceApi(endpoint.url, { ...options, signer: { keyId: endpoint.deviceId, privateKey: keys.signing } }),
    anonymousApi: (url) => new DeviceApi(url, options),
  };
}

/** The distinct inboxes behind a set of pairings: one per (Control Center, device id). */
export function endpointsOf(
  pairings: readonly { url: string; deviceId: string }[],
): { url: string; deviceId: string }[] {
  const seen = new Map<string, { url: string; deviceId: string }>();
  for (const p of pairings) seen.set(`${p.deviceId} ${p.url}`, { url: p.url, deviceId: p.deviceId });
  return [...seen.values()];
}
