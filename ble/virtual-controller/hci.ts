/**
 * The subset of HCI (Core Vol 4 Part E) the virtual controller speaks, as named constants and
 * event builders. H4 framing (Core Vol 4 Part A): one packet-type byte, then the packet.
 */

export const H4 = { command: 0x01, acl: 0x02, event: 0x04 } as const;

/** Opcodes (OGF << 10 | OCF). */
export const Op = {
  disconnect: 0x0406,
  setEventMask: 0x0c01,
  reset: 0x0c03,
  setEventFilter: 0x0c05,
  readLeHostSupported: 0x0c6c,
  writeLeHostSupported: 0x0c6d,
  readLocalVersion: 0x1001,
  readLocalCommands: 0x1002,
  readLocalFeatures: 0x1003,
  readBufferSize: 0x1005,
  readBdAddr: 0x1009,
  readRssi: 0x1405,
  leSetEventMask: 0x2001,
  leReadBufferSize: 0x2002,
  leReadLocalFeatures: 0x2003,
  leSetRandomAddress: 0x2005,
  leSetAdvParams: 0x2006,
  leReadAdvTxPower: 0x2007,
  leSetAdvData: 0x2008,
  leSetScanResponseData: 0x2009,
  leSetAdvEnable: 0x200a,
  leSetScanParams: 0x200b,
  leSetScanEnable: 0x200c,
  leCreateConnection: 0x200d,
  leCreateConnectionCancel: 0x200e,
  leReadWhiteListSize: 0x200f,
  leConnectionUpdate: 0x2013,
  leRand: 0x2018,
  leStartEncryption: 0x2019,
  leLtkNegativeReply: 0x201b,
  leReadSupportedStates: 0x201c,
  /** Linux Foundation (manufacturer 0x05F1) vendor command: write BD_ADDR, as bleno/noble's vs.js send it. */
  vendorWriteBdAddr: 0xfc06,
} as const;

export const Evt = {
  disconnectionComplete: 0x05,
  commandComplete: 0x0e,
  commandStatus: 0x0f,
  numberOfCompletedPackets: 0x13,
  leMeta: 0x3e,
} as const;

/** Error codes (Core Vol 1 Part F). */
export const Status = {
  success: 0x00,
  unknownCommand: 0x01,
  unknownConnection: 0x02,
  commandDisallowed: 0x0c,
  connectionTimeout: 0x08,
  invalidParameters: 0x12,
  remoteUserTerminated: 0x13,
  localHostTerminated: 0x16,
  unsupportedFeature: 0x11,
  connectionFailedToEstablish: 0x3e,
} as const;

/** Advertising PDU types as reported in LE Advertising Report events (Core Vol 4 Part E 7.7.65.2). */
export const AdvReport = {
  advInd: 0x00,
  advDirectInd: 0x01,
  advScanInd: 0x02,
  advNonconnInd: 0x03,
  scanRsp: 0x04,
} as const;
/** Advertising_Type of LE Set Advertising Parameters. */
export const AdvType = {
  advInd: 0x00,
  advDirectIndHigh: 0x01,
  advScanInd: 0x02,
  advNonconnInd: 0x03,
  advDirectIndLow: 0x04,
} as const;

export const ACL_PB_FIRST_NON_FLUSHABLE = 0x00;
export const ACL_PB_CONTINUATION = 0x01;
export const ACL_PB_FIRST_FLUSHABLE = 0x02;
export const L2CAP_HEADER_BYTES = 4;
export const ATT_CID = 0x0004;

export const MANUFACTURER_LINUX_FOUNDATION = 0x05f1;
export const HCI_VERSION_5_0 = 0x09;

/** "c0:ff:ee:00:00:01" → 6 little-endian bytes, as HCI carries addresses. */
export function addressToBytes(address: string): Uint8Array {
  const parts = address.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p)))
    throw new TypeError(`address must look like aa:bb:cc:dd:ee:ff (got ${address})`);
  return Uint8Array.from(parts.reverse().map((p) => Number.parseInt(p, 16)));
}

export function bytesToAddress(bytes: Uint8Array): string {
  return [...bytes.subarray(0, 6)]
    .reverse()
    .map((b) => b.toString(16).padStart(2, '0'))
    .join(':');
}

/** A random private address: top two bits 01 (resolvable-style) or 11 (static), Core Vol 6 Part B 1.3.2. */
export function randomAddress(random: (n: number) => Uint8Array, kind: 'resolvable' | 'static' = 'resolvable'): string {
  const bytes = random(6);
  bytes[5] = (bytes[5]! & 0x3f) | (kind === 'static' ? 0xc0 : 0x40);
  return bytesToAddress(bytes);
}

export function event(code: number, params: Uint8Array): Uint8Array {
  if (params.length > 0xff) throw new RangeError(`event parameters of ${params.length} bytes do not fit`);
  const out = new Uint8Array(3 + params.length);
  out[0] = H4.event;
  out[1] = code;
  out[2] = params.length;
  out.set(params, 3);
  return out;
}

export function commandComplete(opcode: number, returnParams: Uint8Array): Uint8Array {
  return event(Evt.commandComplete, Uint8Array.of(1, opcode & 0xff, opcode >> 8, ...returnParams));
}

export function commandStatus(opcode: number, status: number): Uint8Array {
  return event(Evt.commandStatus, Uint8Array.of(status, 1, opcode & 0xff, opcode >> 8));
}

export function u16(value: number): number[] {
  return [value & 0xff, (value >> 8) & 0xff];
}

/** A device address as it goes on the air: public (type 0) or random (type 1). */
export interface AirAddress {
  readonly address: string;
  readonly type: number;
}

/** Connection_Interval, Peripheral_Latency and Supervision_Timeout, in the spec's units. */
export interface LinkParameters {
  readonly intervalUnits: number;
  readonly latency: number;
  readonly timeoutUnits: number;
}

/** Subevent codes of LE Meta (Core Vol 4 Part E 7.7.65), used only by the builders below. */
const LeSub = { connectionComplete: 0x01, advertisingReport: 0x02, connectionUpdateComplete: 0x03 } as const;

function leMeta(subevent: number, params: Uint8Array): Uint8Array {
  return event(Evt.leMeta, Uint8Array.of(subevent, ...params));
}

const linkParameterBytes = (link: LinkParameters) => [
  ...u16(link.intervalUnits),
  ...u16(link.latency),
  ...u16(link.timeoutUnits),
];

/** One LE Advertising Report (7.7.65.2) of `reportType` (AdvReport). */
export function leAdvertisingReport(reportType: number, air: AirAddress, data: Uint8Array, rssi: number): Uint8Array {
  const params = [1, reportType, air.type, ...addressToBytes(air.address), data.length, ...data, rssi & 0xff];
  return leMeta(LeSub.advertisingReport, Uint8Array.from(params));
}

/** LE Connection Complete (7.7.65.1) of a link made: role 0 central, 1 peripheral; master clock accuracy 0. */
export function leConnectionComplete(handle: number, role: 0 | 1, peer: AirAddress, link: LinkParameters): Uint8Array {
  const params = [Status.success, ...u16(handle), role, peer.type, ...addressToBytes(peer.address)];
  return leMeta(LeSub.connectionComplete, Uint8Array.of(...params, ...linkParameterBytes(link), 0));
}

/** LE Connection Complete of an attempt that failed or was cancelled: its status, the rest zeros. */
export function leConnectionFailed(status: number): Uint8Array {
  return leMeta(LeSub.connectionComplete, Uint8Array.of(status, ...new Uint8Array(17)));
}

/** LE Connection Update Complete (7.7.65.3). */
export function leConnectionUpdateComplete(handle: number, link: LinkParameters): Uint8Array {
  return leMeta(
    LeSub.connectionUpdateComplete,
    Uint8Array.of(Status.success, ...u16(handle), ...linkParameterBytes(link)),
  );
}

export function disconnectionComplete(handle: number, reason: number): Uint8Array {
  return event(Evt.disconnectionComplete, Uint8Array.of(Status.success, ...u16(handle), reason));
}

export function numberOfCompletedPackets(handle: number, count: number): Uint8Array {
  return event(Evt.numberOfCompletedPackets, Uint8Array.of(1, ...u16(handle), ...u16(count)));
}

export function aclPacket(handle: number, boundary: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + data.length);
  out[0] = H4.acl;
  out[1] = handle & 0xff;
  out[2] = ((handle >> 8) & 0x0f) | (boundary << 4);
  out[3] = data.length & 0xff;
  out[4] = data.length >> 8;
  out.set(data, 5);
  return out;
}
