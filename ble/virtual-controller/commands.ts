/**
 * HCI commands the virtual controller answers (docs/ble-virtual-controller.md "Commands"). Each
 * checks its parameter length first; anything unknown gets Command Complete "Unknown HCI Command".
 */
import { AdvType, bytesToAddress, commandComplete, commandStatus, HCI_VERSION_5_0 } from './hci.js';
import { leConnectionUpdateComplete, MANUFACTURER_LINUX_FOUNDATION, addressToBytes, Op, Status, u16 } from './hci.js';
import type { Port } from './port.js';

/** What command handlers may ask of the controller. */
export interface ControllerActions {
  readonly aclDataLength: number;
  readonly aclBufferCount: number;
  readonly random: (length: number) => Uint8Array;
  reset(port: Port): void;
  advertisingChanged(port: Port): void;
  scanningChanged(port: Port): void;
  initiate(port: Port): void;
  cancelInitiate(port: Port): void;
  disconnect(port: Port, handle: number, reason: number): boolean;
}

/** Minimum parameter lengths (Core Vol 4 Part E §7). */
const MIN_PARAMS: Partial<Record<number, number>> = {
  [Op.disconnect]: 3,
  [Op.setEventMask]: 8,
  [Op.writeLeHostSupported]: 2,
  [Op.readRssi]: 2,
  [Op.leSetEventMask]: 8,
  [Op.leSetRandomAddress]: 6,
  [Op.leSetAdvParams]: 15,
  [Op.leSetAdvData]: 1,
  [Op.leSetScanResponseData]: 1,
  [Op.leSetAdvEnable]: 1,
  [Op.leSetScanParams]: 7,
  [Op.leSetScanEnable]: 2,
  [Op.leCreateConnection]: 25,
  [Op.leConnectionUpdate]: 14,
  [Op.leLtkNegativeReply]: 2,
  [Op.vendorWriteBdAddr]: 6,
};

const ok = (opcode: number, ...rest: number[]) => commandComplete(opcode, Uint8Array.of(Status.success, ...rest));

export function handleCommand(actions: ControllerActions, port: Port, opcode: number, params: Uint8Array): void {
  const min = MIN_PARAMS[opcode];
  if (min !== undefined && params.length < min) {
    port.send(commandComplete(opcode, Uint8Array.of(Status.invalidParameters)));
    return;
  }
  const view = new DataView(params.buffer, params.byteOffset, params.byteLength);
  switch (opcode) {
    case Op.reset:
      actions.reset(port);
      port.send(ok(opcode));
      return;
    case Op.setEventMask:
    case Op.setEventFilter:
    case Op.leSetEventMask:
    case Op.writeLeHostSupported:
      port.send(ok(opcode));
      return;
    case Op.readLeHostSupported:
      port.send(ok(opcode, 0x01, 0x00));
      return;
    case Op.readLocalVersion:
      port.send(
        ok(
          opcode,
          HCI_VERSION_5_0,
          ...u16(0x0000),
          HCI_VERSION_5_0,
          ...u16(MANUFACTURER_LINUX_FOUNDATION),
          ...u16(0x0000),
        ),
      );
      return;
    case Op.readLocalCommands:
      port.send(ok(opcode, ...new Uint8Array(64)));
      return;
    case Op.readLocalFeatures:
      // LE Supported (Controller) and BR/EDR Not Supported (Core Vol 2 Part C 3.3, byte 4 bits 5 and 6).
      port.send(ok(opcode, 0, 0, 0, 0, 0x60, 0, 0, 0));
      return;
    case Op.readBufferSize:
      port.send(ok(opcode, ...u16(actions.aclDataLength), 0, ...u16(actions.aclBufferCount), ...u16(0)));
      return;
    case Op.readBdAddr:
      port.send(ok(opcode, ...addressToBytes(port.publicAddress)));
      return;
    case Op.vendorWriteBdAddr:
    case Op.leSetRandomAddress: {
      const address = bytesToAddress(params.subarray(0, 6));
      if (opcode === Op.vendorWriteBdAddr) port.publicAddress = address;
      else port.randomAddress = address;
      port.send(ok(opcode));
      actions.advertisingChanged(port);
      return;
    }
    case Op.leReadBufferSize:
      port.send(ok(opcode, ...u16(actions.aclDataLength), actions.aclBufferCount));
      return;
    case Op.leReadLocalFeatures:
      // LE Encryption only: no data length extension, no extended advertising, so hosts stay on legacy commands.
      port.send(ok(opcode, 0x01, 0, 0, 0, 0, 0, 0, 0));
      return;
    case Op.leReadSupportedStates:
      port.send(ok(opcode, 0xff, 0xff, 0xff, 0xff, 0xff, 0x03, 0, 0));
      return;
    case Op.leReadWhiteListSize:
      port.send(ok(opcode, 8));
      return;
    case Op.leRand:
      port.send(ok(opcode, ...actions.random(8)));
      return;
    case Op.leReadAdvTxPower:
      port.send(ok(opcode, 0));
      return;
    case Op.leSetAdvParams: {
      const type = params[4]!;
      if (type > AdvType.advDirectIndLow || params[5]! > 3) {
        port.send(commandComplete(opcode, Uint8Array.of(Status.invalidParameters)));
        return;
      }
      port.advertising.intervalMs = Math.max(20, view.getUint16(0, true) * 0.625);
      port.advertising.type = type;
      port.advertising.ownAddressType = params[5]! & 1;
      port.send(ok(opcode));
      return;
    }
    case Op.leSetAdvData:
    case Op.leSetScanResponseData: {
      const length = Math.min(params[0]!, 31, params.length - 1);
      const data = params.slice(1, 1 + length);
      if (opcode === Op.leSetAdvData) port.advertising.data = data;
      else port.advertising.scanResponse = data;
      port.send(ok(opcode));
      actions.advertisingChanged(port);
      return;
    }
    case Op.leSetAdvEnable:
      port.advertising.enabled = params[0] === 1;
      port.send(ok(opcode));
      actions.advertisingChanged(port);
      return;
    case Op.leSetScanParams:
      port.scanning.active = params[0] === 1;
      port.scanning.ownAddressType = params[5]! & 1;
      port.send(ok(opcode));
      return;
    case Op.leSetScanEnable:
      port.scanning.enabled = params[0] === 1;
      port.scanning.filterDuplicates = params[1] === 1;
      port.scanning.seen.clear();
      port.send(ok(opcode));
      actions.scanningChanged(port);
      return;
    case Op.leCreateConnection:
      if (port.initiating) {
        port.send(commandStatus(opcode, Status.commandDisallowed));
        return;
      }
      port.initiating = {
        peerAddressType: params[5]! & 1,
        peerAddress: bytesToAddress(params.subarray(6, 12)),
        ownAddressType: params[12]! & 1,
        intervalUnits: view.getUint16(15, true),
        latency: view.getUint16(17, true),
        timeoutUnits: view.getUint16(19, true),
      };
      port.send(commandStatus(opcode, Status.success));
      actions.initiate(port);
      return;
    case Op.leCreateConnectionCancel:
      if (!port.initiating) {
        port.send(commandComplete(opcode, Uint8Array.of(Status.commandDisallowed)));
        return;
      }
      port.send(ok(opcode));
      actions.cancelInitiate(port);
      return;
    case Op.disconnect: {
      const handle = view.getUint16(0, true) & 0x0fff;
      const known = port.connections.has(handle);
      port.send(commandStatus(opcode, known ? Status.success : Status.unknownConnection));
      if (known) actions.disconnect(port, handle, params[2]!);
      return;
    }
    case Op.readRssi: {
      const handle = view.getUint16(0, true) & 0x0fff;
      const connection = port.connections.get(handle);
      const rssi = connection ? connection.peerOf(port).port.rssi : 0;
      port.send(
        commandComplete(
          opcode,
          Uint8Array.of(connection ? Status.success : Status.unknownConnection, ...u16(handle), rssi & 0xff),
        ),
      );
      return;
    }
    case Op.leConnectionUpdate: {
      const handle = view.getUint16(0, true) & 0x0fff;
      const connection = port.connections.get(handle);
      port.send(commandStatus(opcode, connection ? Status.success : Status.unknownConnection));
      if (!connection) return;
      const link = {
        intervalUnits: view.getUint16(4, true),
        latency: view.getUint16(6, true),
        timeoutUnits: view.getUint16(8, true),
      };
      for (const end of [connection.central, connection.peripheral])
        end.port.send(leConnectionUpdateComplete(end.handle, link));
      return;
    }
    case Op.leStartEncryption:
      // Link-layer encryption is not emulated; security lives in the application protocol.
      port.send(commandStatus(opcode, Status.unsupportedFeature));
      return;
    case Op.leLtkNegativeReply:
      port.send(ok(opcode, ...u16(view.getUint16(0, true))));
      return;
    default:
      port.send(commandComplete(opcode, Uint8Array.of(Status.unknownCommand)));
  }
}
