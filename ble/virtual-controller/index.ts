/** The virtual HCI controller (docs/ble-virtual-controller.md). */
export { AttOpcode, countRoundTrips, unlockExchangeStart, type AttRecord, type LinkDirection } from './att.js';
export { BtsnoopWriter, parseBtsnoop, type BtsnoopRecord } from './btsnoop.js';
export { VirtualController, type VirtualControllerOptions } from './controller.js';
export { Faults, type AttPduView, type FaultAction, type FaultRule } from './faults.js';
export { H4Splitter } from './h4-stream.js';
export { VirtualHciSocket, type VirtualBindParams } from './in-process-socket.js';
export { Connection, LL_PDU_OVERHEAD_BYTES, type ConnectionStats } from './link.js';
export { Port } from './port.js';
export { openPtyPort, type PtyPort } from './pty.js';
