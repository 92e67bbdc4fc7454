/**
 * Parses the transport a command line names (docs/ble-dongles.md "Choosing the adapter"):
 *   hci:N                  a Linux kernel controller (hciN), via the raw HCI socket
 *   hci-user:N             the same, taken from BlueZ with the HCI user channel
 *   uart:PATH[@BAUD]       H4 over a serial device (a UART adapter or a virtual-controller pty);
 *                          on Windows a COM port, uart:COM5
 *   usb:VID:PID[:BUS:ADDR] a USB dongle driven through libusb (hex or decimal ids)
 */
import type { BleTransport } from './stack.js';

/** A Windows serial port: COM1…COM256 by name, or as the device \\.\COMn. */
const WINDOWS_COM_PORT = /^(?:\\\\\.\\)?COM(?:[1-9]|[1-9]\d|1\d\d|2[0-4]\d|25[0-6])$/i;

export function parseTransport(spec: string): Exclude<BleTransport, { kind: 'virtual' }> {
  const [kind, ...rest] = spec.split(':');
  const value = rest.join(':');
  switch (kind) {
    case 'hci':
    case 'hci-user': {
      const deviceId = Number(value);
      if (!Number.isInteger(deviceId) || deviceId < 0 || value === '')
        throw new RangeError(`transport ${spec}: the HCI device id must be a number, as in hci:0`);
      return { kind: 'hci', deviceId, userChannel: kind === 'hci-user' };
    }
    case 'uart': {
      const at = value.lastIndexOf('@');
      const path = at > 0 ? value.slice(0, at) : value;
      const baudRate = at > 0 ? Number(value.slice(at + 1)) : undefined;
      if (!path.startsWith('/') && !WINDOWS_COM_PORT.test(path))
        throw new RangeError(
          `transport ${spec}: the UART needs an absolute device path, as in uart:/dev/ttyUSB0, or a COM port, as in uart:COM5`,
        );
      if (baudRate !== undefined && (!Number.isInteger(baudRate) || baudRate <= 0))
        throw new RangeError(`transport ${spec}: the baud rate must be a positive integer`);
      return baudRate === undefined ? { kind: 'uart', path } : { kind: 'uart', path, baudRate };
    }
    case 'usb': {
      const ids = rest.map((part) => Number(part.startsWith('0x') ? part : `0x${part}`));
      if ((ids.length !== 2 && ids.length !== 4) || ids.some((id) => !Number.isInteger(id) || id < 0 || id > 0xffff)) {
        throw new RangeError(
          `transport ${spec}: expected usb:VID:PID or usb:VID:PID:BUS:ADDRESS in hex, as in usb:0a12:0001`,
        );
      }
      const [vid, pid, bus, address] = ids as [number, number, number?, number?];
      return { kind: 'usb', vid, pid, ...(bus !== undefined && { bus }), ...(address !== undefined && { address }) };
    }
    default:
      throw new RangeError(`transport ${spec}: expected hci:N, hci-user:N, uart:PATH[@BAUD] or usb:VID:PID`);
  }
}
