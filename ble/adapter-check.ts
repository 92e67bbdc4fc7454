/**
 * Whether an adapter can be opened, decided before noble or bleno load (docs/ble-dongles.md
 * "Troubleshooting"). The HCI drivers of @stoprocent/bluetooth-hci-socket do not check what they
 * are given: a missing USB dongle ended in "Cannot read properties of undefined (reading
 * 'controlTransfer')", and a missing tty or kernel adapter in a 5-second wait for a power-on that
 * never came. Here a view of the machine (ble/adapter-probe.ts reads the real one; tests inject
 * their own) becomes null — go ahead — or one sentence naming the cause and the next step. Pure.
 */
import type { BleTransport } from './stack.js';

/** What the kernel shows of its Bluetooth adapters (Linux). */
export interface KernelAdapterView {
  readonly kind: 'hci';
  /** /sys/class/bluetooth exists: the kernel has Bluetooth and its module is loaded. */
  readonly bluetooth: boolean;
  /** The adapters the kernel knows, by HCI device id → up (null when it could not be told). */
  readonly adapters: ReadonlyMap<number, boolean | null>;
}

/** What opening the serial device showed. */
export interface UartView {
  readonly kind: 'uart';
  readonly state: 'ok' | 'missing' | 'not-a-tty' | 'no-access';
}

/** What libusb shows of the USB bus, and of the device the transport names. */
export interface UsbView {
  readonly kind: 'usb';
  /** The `usb` package (libusb) loaded. */
  readonly libusb: boolean;
  /** The named device: absent, or how opening it went. */
  readonly device: 'absent' | 'ok' | 'no-access' | 'kernel-driver';
}

export type AdapterView = KernelAdapterView | UartView | UsbView;

const hex4 = (n: number) => n.toString(16).padStart(4, '0');

/** How the transport is named on the command line, for sentences. */
export function describeTransport(transport: Exclude<BleTransport, { kind: 'virtual' }>): string {
  switch (transport.kind) {
    case 'hci':
      return `hci${transport.deviceId}`;
    case 'uart':
      return transport.path;
    case 'usb':
      return `USB device ${hex4(transport.vid)}:${hex4(transport.pid)}${transport.bus !== undefined ? ` at bus ${transport.bus} address ${transport.address}` : ''}`;
  }
}

/** Null when the adapter looks usable, else why not and what to do, as one sentence. */
export function adapterProblem(
  transport: Exclude<BleTransport, { kind: 'virtual' }>,
  view: AdapterView,
): string | null {
  const name = describeTransport(transport);
  if (transport.kind === 'hci' && view.kind === 'hci') {
    if (!view.bluetooth)
      return "this computer's kernel has no Bluetooth (no /sys/class/bluetooth): plug an adapter in and load its driver (sudo modprobe btusb), or use a dongle with --usb VID:PID or --uart PATH (docs/ble-dongles.md)";
    const up = view.adapters.get(transport.deviceId);
    if (up === undefined) {
      const known = [...view.adapters.keys()].sort((a, b) => a - b).map((id) => `hci${id}`);
      return known.length === 0
        ? `there is no Bluetooth adapter ${name}: this computer has none; plug one in (hciconfig lists them), or use a dongle with --usb VID:PID or --uart PATH`
        : `there is no Bluetooth adapter ${name}: this computer has ${known.join(', ')}; name one of those with --hci N`;
    }
    // The raw channel works only on an adapter that is up; the user channel only on one that is down (the kernel answers EBUSY).
    if (!transport.userChannel && up === false)
      return `${name} is down: bring it up with "sudo hciconfig ${name} up", or take it for Latchkey alone with --transport hci-user:${transport.deviceId}`;
    if (transport.userChannel && up === true)
      return `${name} is up and BlueZ holds it, so it cannot be taken exclusively: take it down first with "sudo hciconfig ${name} down"`;
    return null;
  }
  if (transport.kind === 'uart' && view.kind === 'uart') {
    // A Windows COM port (COM5, \\.\COM12) is found and opened another way than a Linux tty.
    const comPort = !transport.path.startsWith('/');
    switch (view.state) {
      case 'ok':
        return null;
      case 'missing':
        return comPort
          ? `the serial port ${name} does not exist: plug the dongle in and find its port in Device Manager, under "Ports (COM & LPT)"`
          : `the serial port ${name} does not exist: plug the dongle in and look for it with "ls /dev/ttyACM* /dev/ttyUSB*", or start a virtual one with "latchkey ble virtual-controller"`;
      case 'not-a-tty':
        return `${name} is not a serial port (not a tty): name the dongle's, for example --uart /dev/ttyACM0`;
      case 'no-access':
        return comPort
          ? `${name} could not be opened: another program has it open (a COM port serves one program at a time), or run as an administrator`
          : `no permission to open ${name}: join its group (sudo usermod -aG dialout $USER, then log in again) or run as root`;
    }
  }
  if (transport.kind === 'usb' && view.kind === 'usb') {
    if (!view.libusb)
      return 'USB dongles need the usb package (libusb), which did not load: run "npm ci" in Latchkey\'s directory';
    switch (view.device) {
      case 'ok':
        return null;
      case 'absent':
        return `no ${name} is connected: plug the dongle in and check its ids with lsusb, or name another with --usb VID:PID`;
      case 'no-access':
        return `no permission to open ${name}: add the udev rule of docs/ble-dongles.md ("Permissions") and plug it in again, or run as root`;
      case 'kernel-driver':
        return `the kernel's btusb driver holds ${name}: use it as a kernel adapter with --hci N (hciconfig lists it), or unbind btusb as docs/ble-dongles.md shows`;
    }
  }
  throw new TypeError(`a ${view.kind} view cannot judge a ${transport.kind} transport`);
}
