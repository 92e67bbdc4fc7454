/**
 * No HCI Reset on a controller the OS shares (docs/ble-dongles.md "HCI Reset on a shared
 * adapter").
 *
 * noble 2.8.0 sends HCI_Reset when it opens an adapter and again before every LE Create
 * Connection while it holds no link of its own (lib/hci-socket/hci.js, `init` and
 * `createLeConn`; its comment calls the second "a mystery case"). On the kernel's raw channel
 * (`hci:N`, HCI_CHANNEL_RAW) that command reaches the controller BlueZ is driving: with
 * CAP_NET_RAW, hci_sock_sendmsg queues any command from a raw socket on the device's command
 * queue. The controller then forgets every link and everything the kernel configured (event
 * masks, scanning, advertising, accept and resolving lists); the kernel's hci_cc_reset only
 * clears its own flags and lists, so the OS's links to headsets, keyboards and mice drop
 * without a Disconnection Complete, and BlueZ's LE auto-connect is re-armed (stoprocent/noble
 * issue 98). On the raw channel noble never makes a link itself anyway: bluetooth-hci-socket
 * turns its LE Create Connection into an L2CAP connect(), so the kernel owns it.
 *
 * So on a shared controller the driver answers a Reset itself — a Command Complete with status
 * success, what the controller would have said — and the controller never sees it; noble goes
 * on exactly as after a real reset (the event masks it rewrites there are its own settings).
 * Everywhere Latchkey has the controller to itself (the user channel, a UART or USB dongle, a
 * virtual controller port) the reset stays: there it is the clean start it is meant to be.
 */
import type { BleTransport } from './stack.js';

/** HCI_Reset (Core Vol 4 Part E §7.3.2) as an H4 command packet: type 0x01, opcode 0x0C03, no parameters. */
const RESET_COMMAND = [0x01, 0x03, 0x0c, 0x00] as const;
/** Its Command Complete (§7.7.14): one command may follow, opcode 0x0C03, status 0x00. */
const RESET_COMPLETE = [0x04, 0x0e, 0x04, 0x01, 0x03, 0x0c, 0x00] as const;

/** Whether the OS holds the controller too, so that nothing may reset it. */
export function controllerIsShared(transport: BleTransport): boolean {
  if (transport.kind === 'hci') return transport.userChannel !== true;
  if (transport.kind === 'virtual') return transport.shared === true;
  return false;
}

export function isResetCommand(packet: Uint8Array): boolean {
  return packet.length === RESET_COMMAND.length && RESET_COMMAND.every((byte, i) => packet[i] === byte);
}

interface HciDriver {
  write(data: Buffer): void;
  emit(event: 'data', data: Buffer): boolean;
}

/** The driver class for a shared controller: the same driver, with HCI_Reset answered here and never sent (a mixin: TypeScript wants `any[]` arguments). */
// biome-ignore lint/suspicious/noExplicitAny: a mixin's constructor must take any[] (TypeScript's rule for mixin classes)
export function withoutControllerReset<T extends new (...args: any[]) => HciDriver>(Driver: T): T {
  return class SharedControllerDriver extends Driver {
    override write(data: Buffer): void {
      if (!isResetCommand(data)) {
        super.write(data);
        return;
      }
      // Asynchronously, as a controller answers: noble has finished its own init steps by then.
      setImmediate(() => this.emit('data', Buffer.from(RESET_COMPLETE)));
    }
  };
}
