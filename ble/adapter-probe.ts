/**
 * Reads the machine's view of an adapter for ble/adapter-check.ts, without loading noble or
 * bleno: the kernel's adapters (/sys/class/bluetooth, and whether each is up through the HCI
 * socket driver's device list), the serial device (opened and closed again: exists, is a tty, may
 * be opened), and the USB bus (libusb through the `usb` package: is the device there, may it be
 * opened, does the kernel's btusb hold it). Every probe answers; none throws.
 */
import { closeSync, constants, existsSync, openSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isatty } from 'node:tty';
import type { Device } from 'usb';
import { adapterProblem, type AdapterView, type KernelAdapterView, type UartView } from './adapter-check.js';
import type { UsbView } from './adapter-check.js';
import { BleTransportError } from './errors.js';
import type { BleTransport } from './stack.js';

const require = createRequire(import.meta.url);
const SYS_BLUETOOTH = '/sys/class/bluetooth';
const LIBUSB_ERROR_ACCESS = -3;

type HciDeviceList = { devId: number | null; devUp: boolean | null }[];

/** Up or down per adapter from the native driver's HCIGETDEVLIST; empty when it cannot tell. */
function kernelUpStates(): Map<number, boolean> {
  const states = new Map<number, boolean>();
  try {
    const fromNoble = createRequire(require.resolve('@stoprocent/noble'));
    const { loadDriver } = fromNoble('@stoprocent/bluetooth-hci-socket') as {
      loadDriver: (
        type: string,
      ) => new () => { on(event: 'error', listener: () => void): void; getDeviceList(): HciDeviceList };
    };
    const socket = new (loadDriver('native'))();
    socket.on('error', () => undefined); // "socket creation failed" on a kernel without AF_BLUETOOTH
    for (const device of socket.getDeviceList())
      if (device.devId !== null && device.devUp !== null) states.set(device.devId, device.devUp);
  } catch {
    // no native driver on this platform: up or down stays unknown
  }
  return states;
}

function probeKernel(): KernelAdapterView {
  if (!existsSync(SYS_BLUETOOTH)) return { kind: 'hci', bluetooth: false, adapters: new Map() };
  const ids = readdirSync(SYS_BLUETOOTH)
    .flatMap((name) => /^hci(\d+)$/.exec(name)?.[1] ?? [])
    .map(Number);
  const up = ids.length > 0 ? kernelUpStates() : new Map<number, boolean>();
  return { kind: 'hci', bluetooth: true, adapters: new Map(ids.map((id) => [id, up.get(id) ?? null])) };
}

function probeUart(path: string): UartView {
  // A Windows COM port (ble/transport-spec.ts) is a device, not a tty: opening \\.\COMn is the probe.
  const comPort = process.platform === 'win32' && !path.startsWith('/');
  let fd: number;
  try {
    fd = comPort
      ? openSync(path.startsWith('\\\\.\\') ? path : `\\\\.\\${path}`, 'r+')
      : openSync(path, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') return { kind: 'uart', state: 'no-access' };
    if (code === 'EISDIR') return { kind: 'uart', state: 'not-a-tty' };
    return { kind: 'uart', state: 'missing' }; // ENOENT, ENXIO (a tty whose device is gone), ENODEV
  }
  try {
    return { kind: 'uart', state: comPort || isatty(fd) ? 'ok' : 'not-a-tty' };
  } finally {
    closeSync(fd);
  }
}

function probeUsb(transport: Extract<BleTransport, { kind: 'usb' }>): UsbView {
  let usb: typeof import('usb');
  try {
    usb = require('usb') as typeof import('usb');
  } catch {
    return { kind: 'usb', libusb: false, device: 'absent' };
  }
  let device: Device | undefined;
  try {
    // The device the usb driver would take: the first with these ids (and bus and address, if named).
    device = usb
      .getDeviceList()
      .find(
        (d) =>
          d.deviceDescriptor.idVendor === transport.vid &&
          d.deviceDescriptor.idProduct === transport.pid &&
          (transport.bus === undefined || d.busNumber === transport.bus) &&
          (transport.address === undefined || d.deviceAddress === transport.address),
      );
  } catch {
    return { kind: 'usb', libusb: true, device: 'absent' }; // no USB bus to list (a container)
  }
  if (!device) return { kind: 'usb', libusb: true, device: 'absent' };
  try {
    device.open();
  } catch (error) {
    return {
      kind: 'usb',
      libusb: true,
      device: (error as { errno?: number }).errno === LIBUSB_ERROR_ACCESS ? 'no-access' : 'absent',
    };
  }
  try {
    return {
      kind: 'usb',
      libusb: true,
      device: device.interfaces?.[0]?.isKernelDriverActive() ? 'kernel-driver' : 'ok',
    };
  } catch {
    return { kind: 'usb', libusb: true, device: 'ok' }; // libusb cannot tell on this platform: let the driver try
  } finally {
    device.close();
  }
}

/** The machine's view of the adapter the transport names. */
export function probeAdapter(transport: Exclude<BleTransport, { kind: 'virtual' }>): AdapterView {
  switch (transport.kind) {
    case 'hci':
      return probeKernel();
    case 'uart':
      return probeUart(transport.path);
    case 'usb':
      return probeUsb(transport);
  }
}

/** Fails with `adapter-unavailable` and a sentence (cause, then the next step) when the adapter cannot be opened. */
export function checkAdapter(transport: BleTransport): void {
  if (transport.kind === 'virtual') return;
  const problem = adapterProblem(transport, probeAdapter(transport));
  if (problem !== null) throw new BleTransportError('adapter-unavailable', problem);
}
