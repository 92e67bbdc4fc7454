// The decision before an adapter opens (ble/adapter-check.ts), on injected views of the machine:
// each unusable adapter is one sentence with the cause and the next step (docs/ble-dongles.md).
import { describe, expect, it } from 'vitest';
import { adapterProblem, type KernelAdapterView } from '../../ble/adapter-check.js';
import { parseTransport } from '../../ble/transport-spec.js';

const kernel = (adapters: [number, boolean | null][], bluetooth = true): KernelAdapterView => ({
  kind: 'hci',
  bluetooth,
  adapters: new Map(adapters),
});
const problem = (spec: string, view: Parameters<typeof adapterProblem>[1]) =>
  adapterProblem(parseTransport(spec), view);

describe('kernel adapters (--hci N, --transport hci-user:N)', () => {
  it('a kernel without Bluetooth names the driver to load and the dongle transports', () => {
    expect(problem('hci:0', kernel([], false))).toMatch(
      /^this computer's kernel has no Bluetooth \(no \/sys\/class\/bluetooth\): .*modprobe btusb.*--usb VID:PID or --uart PATH/,
    );
  });

  it('an adapter id that does not exist names the ones that do', () => {
    expect(problem('hci:1', kernel([[0, true]]))).toBe(
      'there is no Bluetooth adapter hci1: this computer has hci0; name one of those with --hci N',
    );
    expect(problem('hci:0', kernel([]))).toMatch(
      /^there is no Bluetooth adapter hci0: this computer has none; plug one in/,
    );
  });

  it('the raw channel needs the adapter up; the user channel needs it down', () => {
    expect(problem('hci:0', kernel([[0, true]]))).toBeNull();
    expect(problem('hci:0', kernel([[0, false]]))).toBe(
      'hci0 is down: bring it up with "sudo hciconfig hci0 up", or take it for Latchkey alone with --transport hci-user:0',
    );
    expect(problem('hci-user:0', kernel([[0, false]]))).toBeNull();
    expect(problem('hci-user:0', kernel([[0, true]]))).toBe(
      'hci0 is up and BlueZ holds it, so it cannot be taken exclusively: take it down first with "sudo hciconfig hci0 down"',
    );
  });

  it('an up state it could not read lets the library try', () => {
    expect(problem('hci:0', kernel([[0, null]]))).toBeNull();
    expect(problem('hci-user:0', kernel([[0, null]]))).toBeNull();
  });
});

describe('serial adapters (--uart PATH)', () => {
  it('a missing path, a file that is not a tty, and a tty the user may not open each say what to do', () => {
    expect(problem('uart:/dev/ttyACM7', { kind: 'uart', state: 'ok' })).toBeNull();
    expect(problem('uart:/dev/ttyACM7', { kind: 'uart', state: 'missing' })).toMatch(
      /^the serial port \/dev\/ttyACM7 does not exist: plug the dongle in/,
    );
    expect(problem('uart:/etc/passwd', { kind: 'uart', state: 'not-a-tty' })).toBe(
      "/etc/passwd is not a serial port (not a tty): name the dongle's, for example --uart /dev/ttyACM0",
    );
    expect(problem('uart:/dev/ttyACM7', { kind: 'uart', state: 'no-access' })).toMatch(
      /^no permission to open \/dev\/ttyACM7: join its group \(sudo usermod -aG dialout/,
    );
  });

  it('a Windows COM port is looked for in Device Manager, and one another program holds is named as such', () => {
    expect(problem('uart:COM5', { kind: 'uart', state: 'missing' })).toBe(
      'the serial port COM5 does not exist: plug the dongle in and find its port in Device Manager, under "Ports (COM & LPT)"',
    );
    expect(problem('uart:\\\\.\\COM12', { kind: 'uart', state: 'no-access' })).toMatch(
      /could not be opened: another program has it open \(a COM port serves one program at a time\), or run as an administrator$/,
    );
    expect(problem('uart:COM5', { kind: 'uart', state: 'no-access' })).not.toContain('dialout');
  });
});

describe('USB dongles (--usb VID:PID)', () => {
  it('an absent device, one the user may not open, and one the kernel holds each say what to do', () => {
    const usb = (device: 'absent' | 'ok' | 'no-access' | 'kernel-driver') => ({
      kind: 'usb' as const,
      libusb: true,
      device,
    });
    expect(problem('usb:0a12:0001', usb('ok'))).toBeNull();
    expect(problem('usb:0a12:0001', usb('absent'))).toBe(
      'no USB device 0a12:0001 is connected: plug the dongle in and check its ids with lsusb, or name another with --usb VID:PID',
    );
    expect(problem('usb:0a12:0001:1:7', usb('absent'))).toMatch(
      /^no USB device 0a12:0001 at bus 1 address 7 is connected/,
    );
    expect(problem('usb:0a12:0001', usb('no-access'))).toMatch(
      /^no permission to open USB device 0a12:0001: add the udev rule of docs\/ble-dongles.md/,
    );
    expect(problem('usb:0a12:0001', usb('kernel-driver'))).toMatch(
      /^the kernel's btusb driver holds USB device 0a12:0001: use it as a kernel adapter with --hci N/,
    );
    expect(problem('usb:0a12:0001', { kind: 'usb', libusb: false, device: 'absent' })).toMatch(
      /usb package \(libusb\), which did not load/,
    );
  });

  it('a view of another kind of adapter is a programming error, not a verdict', () => {
    expect(() => problem('usb:0a12:0001', { kind: 'uart', state: 'ok' })).toThrow(TypeError);
  });
});
