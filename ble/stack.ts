/**
 * Loads the real noble (central) and bleno (peripheral) lazily, with createRequire (as
 * agent/load-cjs.ts does), so processes that never use BLE never load them, and builds one
 * instance per transport. Before the first load it teaches @stoprocent/bluetooth-hci-socket's
 * exported `loadDriver` to accept a driver class, which is how the in-process virtual
 * controller replaces the transport; every other driver name goes to the original.
 */
import { createRequire } from 'node:module';
import type { Bleno } from '@stoprocent/bleno';
import type { Noble } from '@stoprocent/noble';
import type { VirtualController } from './virtual-controller/controller.js';
import { VirtualHciSocket } from './virtual-controller/in-process-socket.js';

const require = createRequire(import.meta.url);

/** Which HCI transport a central or peripheral uses (docs/ble-dongles.md). */
export type BleTransport =
  /** A port of an in-process virtual controller (tests, benchmarks). */
  | { readonly kind: 'virtual'; readonly controller: VirtualController; readonly port: string }
  /** H4 over a serial device: a pseudo-terminal of `latchkey ble virtual-controller`, or a UART adapter. */
  | { readonly kind: 'uart'; readonly path: string; readonly baudRate?: number }
  /** A Linux kernel controller, hciN (raw socket; `userChannel` takes it from BlueZ). */
  | { readonly kind: 'hci'; readonly deviceId: number; readonly userChannel?: boolean }
  /** A USB dongle driven directly through libusb (WinUSB on Windows). */
  | { readonly kind: 'usb'; readonly vid: number; readonly pid: number; readonly bus?: number; readonly address?: number };

type WithBindings<T> = (bindingType: 'hci', options: Record<string, unknown>) => T;
type LoadDriver = ((type: unknown) => unknown) & { latchkeyAcceptsClasses?: true };

const patched = new Set<string>();

function patchLoadDriver(packageName: string): void {
  if (patched.has(packageName)) return;
  // The package's Hci module copies loadDriver when it loads; if that already happened, the
  // virtual driver would silently not take (the adapter would just say "unsupported").
  const hciModule = require.resolve(`${packageName}/lib/hci-socket/hci.js`);
  if (require.cache[hciModule]) throw new Error(`${packageName} loaded its HCI layer before ble/stack.ts could install the virtual driver`);
  const fromPackage = createRequire(require.resolve(packageName));
  const hciSocket = fromPackage('@stoprocent/bluetooth-hci-socket') as { loadDriver: LoadDriver };
  if (!hciSocket.loadDriver.latchkeyAcceptsClasses) {
    const original = hciSocket.loadDriver;
    const loadDriver: LoadDriver = (type) => (typeof type === 'function' ? type : original(type));
    loadDriver.latchkeyAcceptsClasses = true;
    hciSocket.loadDriver = loadDriver;
  }
  patched.add(packageName);
}

/** withBindings options for a transport (the keys noble's and bleno's Hci constructors read). */
export function hciOptions(transport: BleTransport): Record<string, unknown> {
  switch (transport.kind) {
    case 'virtual':
      return { hciDriver: VirtualHciSocket, bindParams: { virtual: { controller: transport.controller, port: transport.port } } };
    case 'uart':
      return { hciDriver: 'uart', bindParams: { uart: { port: transport.path, baudRate: transport.baudRate ?? 1_000_000 } } };
    case 'hci':
      return { hciDriver: 'native', deviceId: transport.deviceId, userChannel: transport.userChannel ?? false };
    case 'usb':
      return { hciDriver: 'usb', bindParams: { usb: { vid: transport.vid, pid: transport.pid, bus: transport.bus, address: transport.address } } };
  }
}

/** A fresh noble instance on this transport. Its hci-socket bindings are loaded on first use. */
export function createNoble(transport: BleTransport): Noble {
  patchLoadDriver('@stoprocent/noble');
  // lib/resolve-bindings (noble 2.8.0) is withBindings without the default instance index.js builds.
  const withBindings = require('@stoprocent/noble/lib/resolve-bindings') as WithBindings<Noble>;
  return withBindings('hci', { ...hciOptions(transport), extended: false });
}

/** A fresh bleno instance on this transport. */
export function createBleno(transport: BleTransport): Bleno {
  patchLoadDriver('@stoprocent/bleno');
  const withBindings = require('@stoprocent/bleno/lib/resolve-bindings') as WithBindings<Bleno>;
  return withBindings('hci', hciOptions(transport));
}

/** bleno's GATT classes, from the same loaded copy. */
export function blenoClasses(): { Characteristic: typeof import('@stoprocent/bleno').Characteristic; PrimaryService: typeof import('@stoprocent/bleno').PrimaryService } {
  patchLoadDriver('@stoprocent/bleno');
  return {
    Characteristic: require('@stoprocent/bleno/lib/characteristic'),
    PrimaryService: require('@stoprocent/bleno/lib/primary-service'),
  };
}
