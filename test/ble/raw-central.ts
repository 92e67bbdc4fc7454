/**
 * A rogue workstation for tests: the real noble on its own controller port, connected and
 * subscribed to the phone's Latchkey service, writing whatever bytes the test gives it.
 */
import type { Characteristic, Peripheral } from '@stoprocent/noble';
import { CONTROL_POINT_UUID, RESPONSE_UUID, SERVICE_UUID } from '../../ble/protocol/constants.js';
import { createNoble } from '../../ble/stack.js';
import type { VirtualController } from '../../ble/virtual-controller/index.js';

export interface RawSession {
  readonly mtu: number;
  readonly notifications: Uint8Array[];
  readonly peripheral: Peripheral;
  write(bytes: Uint8Array): Promise<void>;
  /** Resolves when the phone ends the connection. */
  readonly disconnected: Promise<void>;
  close(): Promise<void>;
}

export async function rawSession(
  controller: VirtualController,
  port: string,
  options: { mtu?: number } = {},
): Promise<RawSession> {
  if (!controller.ports.some((p) => p.name === port)) controller.addPort(port);
  const noble = createNoble({ kind: 'virtual', controller, port });
  try {
    await noble.waitForPoweredOnAsync(3_000);
    await noble.startScanningAsync([], true);
    const peripheral = await new Promise<Peripheral>((resolve) => {
      const onDiscover = (p: Peripheral) => {
        if (p.advertisement.manufacturerData?.subarray(2, 4).toString() !== 'LK') return;
        noble.removeListener('discover', onDiscover);
        resolve(p);
      };
      noble.on('discover', onDiscover);
    });
    await noble.stopScanningAsync();
    const connect = peripheral.connectAsync as (o?: { mtu?: number }) => Promise<void>;
    await connect.call(peripheral, options.mtu === undefined ? undefined : { mtu: options.mtu });
    const disconnected = new Promise<void>((resolve) => peripheral.once('disconnect', () => resolve()));
    const { characteristics } = await peripheral.discoverSomeServicesAndCharacteristicsAsync(
      [SERVICE_UUID],
      [CONTROL_POINT_UUID, RESPONSE_UUID],
    );
    const controlPoint = characteristics.find((c: Characteristic) => c.uuid === CONTROL_POINT_UUID)!;
    const response = characteristics.find((c: Characteristic) => c.uuid === RESPONSE_UUID)!;
    const notifications: Uint8Array[] = [];
    response.on('data', (data: Buffer) => notifications.push(new Uint8Array(data)));
    await response.subscribeAsync();
    return {
      mtu: peripheral.mtu ?? 23,
      notifications,
      peripheral,
      write: (bytes) => controlPoint.writeAsync(Buffer.from(bytes), true),
      disconnected,
      async close() {
        if (peripheral.state === 'connected') await peripheral.disconnectAsync().catch(() => undefined);
        noble.stop();
      },
    };
  } catch (error) {
    noble.stop();
    throw error;
  }
}

/** Polls until `condition` holds (tests only; the BLE stack itself never polls). */
export async function waitUntil(condition: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
