/**
 * The workstation's radio work for pairing over BLE (docs/ble-protocol.md §12.1): scan for the
 * pairing tag of one pairing id, connect, discover the Latchkey service (no handle cache: the
 * phone is new), run the exchange, disconnect, and hand back the handles discovery found.
 * Transport failures come back as results.
 */
import { performance } from 'node:perf_hooks';
import type { Noble } from '@stoprocent/noble';
import { discoverLink, type GattHandles } from './central-gatt.js';
import { findPhone } from './central-scan.js';
import { BleTransportError, withTimeout } from './errors.js';
import { CONNECT_TIMEOUT_MS, DEFAULT_SLOT_TOLERANCE, GATT_SETUP_TIMEOUT_MS } from './protocol/constants.js';
import { derivePairTagKey } from './protocol/pairing-code.js';
import type { WorkstationPairingHandshake } from './protocol/pairing-handshake.js';
import { TagMatcher } from './protocol/tag.js';
import { runWorkstationPairing, type PairingExchangeResult } from './workstation-pairing.js';

export interface PairRequest {
  /** The pairing id of the code on the screen: the phone advertises its pairing tag. */
  readonly pairingId: string;
  /** Builds the handshake once the phone is found (it needs the tag the phone advertised). */
  readonly handshake: (tag: Uint8Array) => WorkstationPairingHandshake;
  /** Scan, connect and exchange together. */
  readonly budgetMs: number;
}

/** A pairing's outcome; a paired phone's GATT handles come with it, so its first unlock skips discovery (§3). */
export type PairResult =
  | (Extract<PairingExchangeResult, { ok: true }> & { readonly gattHandles: GattHandles | null })
  | Extract<PairingExchangeResult, { ok: false }>;

export async function centralPair(
  noble: Noble,
  request: PairRequest,
  options: { minRssi: number | null; clock: () => number; mtu?: number | undefined },
): Promise<PairResult> {
  const deadline = performance.now() + request.budgetMs;
  const matcher = new TagMatcher(
    [{ id: request.pairingId, tagKey: derivePairTagKey(request.pairingId) }],
    DEFAULT_SLOT_TOLERANCE,
  );
  const found = await findPhone(noble, { matcher, minRssi: options.minRssi, clock: options.clock, deadline });
  if ('code' in found)
    return {
      ok: false,
      code: found.code,
      reason: found.code === 'no-phone-found' ? 'no phone showing this pairing code advertised in range' : found.reason,
    };
  const { peripheral, tag } = found;
  try {
    const connect = peripheral.connectAsync as (options?: { mtu?: number }) => Promise<void>;
    await withTimeout(
      connect.call(peripheral, options.mtu === undefined ? undefined : { mtu: options.mtu }),
      Math.min(CONNECT_TIMEOUT_MS, deadline - performance.now()),
      () => new BleTransportError('connect-failed', 'the phone did not accept the connection in time'),
    );
  } catch (error) {
    peripheral.cancelConnect();
    return { ok: false, code: 'connect-failed', reason: error instanceof Error ? error.message : String(error) };
  }
  try {
    const { link, handles } = await discoverLink(
      peripheral,
      Math.min(GATT_SETUP_TIMEOUT_MS, deadline - performance.now()),
    );
    const result = await runWorkstationPairing(link, request.handshake(tag));
    return result.ok ? { ...result, gattHandles: handles } : result;
  } catch (error) {
    return {
      ok: false,
      code: error instanceof BleTransportError ? error.code : 'gatt-setup-failed',
      reason: error instanceof Error ? error.message : String(error),
    };
  } finally {
    if (peripheral.state === 'connected')
      await withTimeout(peripheral.disconnectAsync(), 2_000, () => new Error('disconnect timed out')).catch(
        () => undefined,
      );
  }
}
