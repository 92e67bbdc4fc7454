/**
 * Loads the real noble (central) and bleno (peripheral) lazily, with createRequire (as
 * platform/load-cjs.ts does), so processes that never use BLE never load them, and builds one
 * instance per transport. Before the first load it teaches @stoprocent/bluetooth-hci-socket's
 * exported `loadDriver` to accept a driver class, which is how the in-process virtual
 * controller replaces the transport, and how a controller the OS shares gets a driver that never
 * resets it (ble/shared-controller.ts); every other driver name goes to the original. `openRadio`
 * checks the adapter first (ble/adapter-probe.ts) and waits for it to power on.
 */
import { createRequire } from 'node:module';
import type { Bleno } from '@stoprocent/bleno';
import type { Noble } from '@stoprocent/noble';
import { describeTransport } from './adapter-check.js';
import { checkAdapter } from './adapter-probe.js';
import { BleTransportError } from './errors.js';
import { controllerIsShared, withoutControllerReset } from './shared-controller.js';
import type { VirtualController } from './virtual-controller/controller.js';
import { VirtualHciSocket } from './virtual-controller/in-process-socket.js';

const require = createRequire(import.meta.url);

/** Which HCI transport a central or peripheral uses (docs/ble-dongles.md). */
export type BleTransport =
  /**
   * A port of an in-process virtual controller (tests, benchmarks); `shared` treats it as a
   * controller the OS also holds, as `hci:N` is (ble/shared-controller.ts).
   */
  | {
      readonly kind: 'virtual';
      readonly controller: VirtualController;
      readonly port: string;
      readonly shared?: boolean;
    }
  /** H4 over a serial device: a pseudo-terminal of `latchkey ble virtual-controller`, or a UART adapter. */
  | { readonly kind: 'uart'; readonly path: string; readonly baudRate?: number }
  /** A Linux kernel controller, hciN (raw socket; `userChannel` takes it from BlueZ). */
  | { readonly kind: 'hci'; readonly deviceId: number; readonly userChannel?: boolean }
  /** A USB dongle driven directly through libusb (WinUSB on Windows). */
  | {
      readonly kind: 'usb';
      readonly vid: number;
      readonly pid: number;
      readonly bus?: number;
      readonly address?: number;
    };

type WithBindings<T> = (bindingType: 'hci', options: Record<string, unknown>) => T;
type LoadDriver = ((type: unknown) => unknown) & { latchkeyAcceptsClasses?: true };

type RadioPackage = '@stoprocent/noble' | '@stoprocent/bleno';
const patched = new Set<string>();

/** The copy of @stoprocent/bluetooth-hci-socket that `packageName` loads. */
function hciSocketOf(packageName: RadioPackage): { loadDriver: LoadDriver } {
  return createRequire(require.resolve(packageName))('@stoprocent/bluetooth-hci-socket') as { loadDriver: LoadDriver };
}

function patchLoadDriver(packageName: RadioPackage): void {
  if (patched.has(packageName)) return;
  // The package's Hci module copies loadDriver when it loads; if that already happened, the
  // virtual driver would silently not take (the adapter would just say "unsupported").
  const hciModule = require.resolve(`${packageName}/lib/hci-socket/hci.js`);
  if (require.cache[hciModule])
    throw new Error(`${packageName} loaded its HCI layer before ble/stack.ts could install the virtual driver`);
  const hciSocket = hciSocketOf(packageName);
  if (!hciSocket.loadDriver.latchkeyAcceptsClasses) {
    const original = hciSocket.loadDriver;
    const loadDriver: LoadDriver = (type) => (typeof type === 'function' ? type : original(type));
    loadDriver.latchkeyAcceptsClasses = true;
    hciSocket.loadDriver = loadDriver;
  }
  patched.add(packageName);
}

/**
 * withBindings options for a transport (the keys noble's and bleno's Hci constructors read). A
 * controller the OS shares gets its driver wrapped so that it is never reset (ble/shared-controller.ts).
 */
function hciOptions(transport: BleTransport, packageName: RadioPackage): Record<string, unknown> {
  const shared = controllerIsShared(transport);
  switch (transport.kind) {
    case 'virtual':
      return {
        hciDriver: shared ? withoutControllerReset(VirtualHciSocket) : VirtualHciSocket,
        bindParams: { virtual: { controller: transport.controller, port: transport.port } },
      };
    case 'uart':
      return {
        hciDriver: 'uart',
        bindParams: { uart: { port: transport.path, baudRate: transport.baudRate ?? 1_000_000 } },
      };
    case 'hci': {
      const native = () =>
        hciSocketOf(packageName).loadDriver('native') as new () => {
          write(data: Buffer): void;
          emit(event: 'data', data: Buffer): boolean;
        };
      return {
        hciDriver: shared ? withoutControllerReset(native()) : 'native',
        deviceId: transport.deviceId,
        userChannel: transport.userChannel ?? false,
      };
    }
    case 'usb':
      return {
        hciDriver: 'usb',
        bindParams: { usb: { vid: transport.vid, pid: transport.pid, bus: transport.bus, address: transport.address } },
      };
  }
}

/**
 * noble and bleno print their own advice on stdout when an adapter is `unsupported` or
 * `unauthorized` ("Try to run with environment variable: NOBLE_HCI_DEVICE_ID=x"), once per
 * instance: again at every reopen of the agent, into a `--json` output, and naming variables
 * Latchkey does not use. Their bindings' onStateChange runs quiet instead; openRadio says the
 * cause once, in its own sentence.
 */
function quietStateWarnings(bindingsModule: string): void {
  type Bindings = { prototype: { onStateChange(state: string): void; latchkeyQuiet?: true } };
  const { prototype } = require(bindingsModule) as Bindings;
  if (prototype.latchkeyQuiet) return;
  const original = prototype.onStateChange;
  prototype.onStateChange = function (this: unknown, state: string) {
    if (state !== 'unsupported' && state !== 'unauthorized') return original.call(this, state);
    const log = console.log;
    console.log = () => undefined;
    try {
      return original.call(this, state);
    } finally {
      console.log = log;
    }
  };
  prototype.latchkeyQuiet = true;
}

/** A fresh noble instance on this transport. Its hci-socket bindings are loaded on first use. */
export function createNoble(transport: BleTransport): Noble {
  patchLoadDriver('@stoprocent/noble');
  quietStateWarnings('@stoprocent/noble/lib/hci-socket/bindings');
  // lib/resolve-bindings (noble 2.8.0) is withBindings without the default instance index.js builds.
  const withBindings = require('@stoprocent/noble/lib/resolve-bindings') as WithBindings<Noble>;
  return withBindings('hci', { ...hciOptions(transport, '@stoprocent/noble'), extended: false });
}

/** A fresh bleno instance on this transport. */
export function createBleno(transport: BleTransport): Bleno {
  patchLoadDriver('@stoprocent/bleno');
  quietStateWarnings('@stoprocent/bleno/lib/hci-socket/bindings');
  const withBindings = require('@stoprocent/bleno/lib/resolve-bindings') as WithBindings<Bleno>;
  return withBindings('hci', hciOptions(transport, '@stoprocent/bleno'));
}

/** What noble and bleno have in common for opening. */
interface Radio {
  readonly state: string;
  on(event: 'stateChange', listener: (state: string) => void): unknown;
  removeListener(event: 'stateChange', listener: (state: string) => void): unknown;
  stop(): void;
}

function unusable(transport: BleTransport, state: string): BleTransportError {
  const name =
    transport.kind === 'virtual' ? `the virtual controller's port ${transport.port}` : describeTransport(transport);
  if (state === 'unauthorized')
    return new BleTransportError(
      'adapter-unavailable',
      `no permission to use ${name}: run as root, or give node CAP_NET_RAW and CAP_NET_ADMIN (docs/ble-dongles.md "Permissions")`,
    );
  if (state === 'unsupported')
    return new BleTransportError(
      'adapter-unavailable',
      `${name} cannot be used as a Bluetooth LE adapter (state unsupported: it could not be opened, or it is older than Bluetooth 4.0): try another adapter (docs/ble-dongles.md)`,
    );
  return new BleTransportError(
    'adapter-unavailable',
    `the Bluetooth adapter ${name} did not power on (state ${state}): check that it is plugged in and not blocked (rfkill unblock bluetooth)`,
  );
}

/**
 * Opens a radio: checks the adapter first (ble/adapter-probe.ts: a missing device fails at
 * once, with the cause and the next step), then waits for it to power on. `unsupported` and
 * `unauthorized` end the wait at once: neither library leaves them by itself.
 */
export async function openRadio<T extends Radio>(
  transport: BleTransport,
  create: (transport: BleTransport) => T,
  timeoutMs: number,
): Promise<T> {
  checkAdapter(transport);
  const radio = create(transport);
  try {
    await new Promise<void>((resolve, reject) => {
      const finish = (error?: BleTransportError) => {
        clearTimeout(timer);
        radio.removeListener('stateChange', onState);
        if (error) reject(error);
        else resolve();
      };
      const onState = (state: string) => {
        if (state === 'poweredOn') finish();
        else if (state === 'unsupported' || state === 'unauthorized') finish(unusable(transport, state));
      };
      const timer = setTimeout(() => finish(unusable(transport, radio.state)), timeoutMs);
      if (radio.state === 'poweredOn') finish();
      else radio.on('stateChange', onState);
    });
  } catch (error) {
    try {
      radio.stop();
    } catch {
      // a driver that never opened may throw on stop; the reason to report is the one above
    }
    throw error;
  }
  return radio;
}

/** bleno's GATT classes, from the same loaded copy. */
export function blenoClasses(): {
  Characteristic: typeof import('@stoprocent/bleno').Characteristic;
  PrimaryService: typeof import('@stoprocent/bleno').PrimaryService;
} {
  patchLoadDriver('@stoprocent/bleno');
  return {
    Characteristic: require('@stoprocent/bleno/lib/characteristic'),
    PrimaryService: require('@stoprocent/bleno/lib/primary-service'),
  };
}
