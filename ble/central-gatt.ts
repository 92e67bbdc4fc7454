/**
 * GATT setup on the workstation (docs/ble-protocol.md §3): full discovery the first time, then
 * a cached path that skips discovery. Discovery costs 6 ATT round trips (services,
 * characteristics, the CCCD lookup) on top of the MTU exchange; with the cached handles, setup is
 * the MTU exchange and one CCCD write, whose Write Response also proves the cache still fits.
 */
import type { Characteristic, Peripheral } from '@stoprocent/noble';
import { BleTransportError, withTimeout } from './errors.js';
import { CONTROL_POINT_UUID, MIN_ATT_MTU, RESPONSE_UUID, SERVICE_UUID } from './protocol/constants.js';
import type { ExchangeLink } from './workstation-exchange.js';

/** The phone's attribute handles for the Latchkey service, learnt by discovery. */
export interface GattHandles {
  readonly controlPoint: number;
  readonly response: number;
  /** The response characteristic's CCCD: the doc requires it right after the value (§3). */
  readonly cccd: number;
}

const CACHED_SUBSCRIBE_TIMEOUT_MS = 500;
const ENABLE_NOTIFICATIONS = Buffer.from([0x01, 0x00]);

function lostLink(peripheral: Peripheral): Promise<never> {
  const lost = new Promise<never>((_, reject) =>
    peripheral.once('disconnect', () =>
      reject(new BleTransportError('disconnected', 'the phone disconnected during GATT setup')),
    ),
  );
  lost.catch(() => undefined);
  return lost;
}

function mtuOf(peripheral: Peripheral): number {
  return Math.max(MIN_ATT_MTU, peripheral.mtu ?? MIN_ATT_MTU);
}

/** Discovers the service, subscribes, and reports the handles for next time (null if noble hides them). */
export async function discoverLink(
  peripheral: Peripheral,
  timeoutMs: number,
): Promise<{ link: ExchangeLink; handles: GattHandles | null }> {
  const setup = (async () => {
    const { characteristics } = await peripheral.discoverSomeServicesAndCharacteristicsAsync(
      [SERVICE_UUID],
      [CONTROL_POINT_UUID, RESPONSE_UUID],
    );
    const controlPoint = characteristics.find((c) => c.uuid === CONTROL_POINT_UUID);
    const response = characteristics.find((c) => c.uuid === RESPONSE_UUID);
    if (!controlPoint || !response)
      throw new BleTransportError('gatt-setup-failed', 'the phone does not offer the Latchkey GATT service');
    await response.subscribeAsync();
    return { controlPoint, response };
  })();
  const { controlPoint, response } = await withTimeout(
    Promise.race([setup, lostLink(peripheral)]),
    timeoutMs,
    () => new BleTransportError('gatt-setup-failed', 'GATT setup did not finish in time'),
  );
  return { link: characteristicLink(peripheral, controlPoint, response), handles: learnHandles(peripheral) };
}

/** Subscribes through the cached CCCD handle; null when the phone does not answer it as one. */
export async function cachedLink(peripheral: Peripheral, handles: GattHandles): Promise<ExchangeLink | null> {
  try {
    // noble swallows an ATT error here (the promise never settles), so a short timeout stands for it.
    await withTimeout(
      Promise.race([peripheral.writeHandleAsync(handles.cccd, ENABLE_NOTIFICATIONS, false), lostLink(peripheral)]),
      CACHED_SUBSCRIBE_TIMEOUT_MS,
      () => new Error('no Write Response'),
    );
  } catch (error) {
    if (error instanceof BleTransportError) throw error;
    return null;
  }
  return {
    mtu: mtuOf(peripheral),
    write: (fragment) => peripheral.writeHandleAsync(handles.controlPoint, Buffer.from(fragment), true),
    writeConfirmed: (fragment) => peripheral.writeHandleAsync(handles.controlPoint, Buffer.from(fragment), false),
    onFragment: (listener) => {
      const onNotify = (handle: number, data: Buffer): void => {
        if (handle === handles.response) listener(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      };
      peripheral.on('handleNotify', onNotify);
      return () => peripheral.removeListener('handleNotify', onNotify);
    },
    ...linkEvents(peripheral),
  };
}

function characteristicLink(
  peripheral: Peripheral,
  controlPoint: Characteristic,
  response: Characteristic,
): ExchangeLink {
  return {
    mtu: mtuOf(peripheral),
    write: (fragment) => controlPoint.writeAsync(Buffer.from(fragment), true),
    onFragment: (listener) => {
      const onData = (data: Buffer): void => listener(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      response.on('data', onData);
      return () => response.removeListener('data', onData);
    },
    ...linkEvents(peripheral),
  };
}

function linkEvents(peripheral: Peripheral): Pick<ExchangeLink, 'onDisconnect' | 'readRssi'> {
  return {
    onDisconnect: (listener) => {
      peripheral.once('disconnect', listener);
      return () => peripheral.removeListener('disconnect', listener);
    },
    readRssi: () => withTimeout(peripheral.updateRssiAsync(), 1_000, () => new Error('RSSI read timed out')),
  };
}

/**
 * noble (2.8.0) keeps the value handles it discovered in its per-connection GATT object but
 * does not expose them; read them there, and give up quietly if that ever changes.
 */
function learnHandles(peripheral: Peripheral): GattHandles | null {
  type Internal = {
    _noble?: {
      _bindings?: {
        _gatts?: Record<string, { _characteristics?: Record<string, Record<string, { valueHandle?: unknown }>> }>;
      };
    };
  };
  const characteristics = (peripheral as unknown as Internal)._noble?._bindings?._gatts?.[peripheral.id]
    ?._characteristics?.[SERVICE_UUID];
  const controlPoint = characteristics?.[CONTROL_POINT_UUID]?.valueHandle;
  const response = characteristics?.[RESPONSE_UUID]?.valueHandle;
  if (!Number.isInteger(controlPoint) || !Number.isInteger(response)) return null;
  return { controlPoint: controlPoint as number, response: response as number, cccd: (response as number) + 1 };
}
