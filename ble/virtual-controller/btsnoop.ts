/**
 * btsnoop capture files, as Wireshark reads them: "btsnoop\0", version 1, datalink 1002 (HCI
 * UART, H4), then records of original length, included length, flags, drops and a timestamp in
 * microseconds since 0000-01-01 (the format from Symbian's btsnoop, documented in Wireshark's wiki).
 */
import { closeSync, openSync, writeSync } from 'node:fs';

export const BTSNOOP_MAGIC = Uint8Array.from([...'btsnoop'].map((c) => c.charCodeAt(0)).concat(0));
export const BTSNOOP_VERSION = 1;
export const DATALINK_H4 = 1002;
/** Microseconds between 0000-01-01 and 1970-01-01. */
const EPOCH_DELTA_US = 0x00dcddb30f2f8000n;
const HEADER_BYTES = 16;
const RECORD_HEADER_BYTES = 24;

export type Direction = 'host-to-controller' | 'controller-to-host';

export interface BtsnoopRecord {
  readonly direction: Direction;
  readonly commandOrEvent: boolean;
  readonly timestampUs: bigint;
  readonly packet: Uint8Array;
}

export class BtsnoopWriter {
  #fd: number | null;

  constructor(path: string) {
    this.#fd = openSync(path, 'w', 0o600);
    const header = new Uint8Array(HEADER_BYTES);
    header.set(BTSNOOP_MAGIC);
    const view = new DataView(header.buffer);
    view.setUint32(8, BTSNOOP_VERSION);
    view.setUint32(12, DATALINK_H4);
    writeSync(this.#fd, header);
  }

  /** Records one H4 packet (type byte included). */
  write(direction: Direction, packet: Uint8Array, nowMs = Date.now()): void {
    if (this.#fd === null) return;
    const record = new Uint8Array(RECORD_HEADER_BYTES + packet.length);
    const view = new DataView(record.buffer);
    view.setUint32(0, packet.length);
    view.setUint32(4, packet.length);
    const commandOrEvent = packet[0] === 0x01 || packet[0] === 0x04;
    view.setUint32(8, (direction === 'controller-to-host' ? 1 : 0) | (commandOrEvent ? 2 : 0));
    view.setUint32(12, 0);
    view.setBigInt64(16, BigInt(Math.round(nowMs * 1000)) + EPOCH_DELTA_US);
    record.set(packet, RECORD_HEADER_BYTES);
    writeSync(this.#fd, record);
  }

  close(): void {
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
  }
}

/** Reads a btsnoop file back; throws on anything that is not a well-formed H4 capture. */
export function parseBtsnoop(bytes: Uint8Array): BtsnoopRecord[] {
  if (bytes.length < HEADER_BYTES || !BTSNOOP_MAGIC.every((b, i) => bytes[i] === b))
    throw new Error('not a btsnoop file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(8) !== BTSNOOP_VERSION || view.getUint32(12) !== DATALINK_H4)
    throw new Error('not a version 1 H4 btsnoop file');
  const records: BtsnoopRecord[] = [];
  let offset = HEADER_BYTES;
  while (offset < bytes.length) {
    if (bytes.length - offset < RECORD_HEADER_BYTES) throw new Error(`truncated record header at ${offset}`);
    const included = view.getUint32(offset + 4);
    const flags = view.getUint32(offset + 8);
    if (bytes.length - offset - RECORD_HEADER_BYTES < included) throw new Error(`truncated record at ${offset}`);
    records.push({
      direction: flags & 1 ? 'controller-to-host' : 'host-to-controller',
      commandOrEvent: (flags & 2) !== 0,
      timestampUs: view.getBigInt64(offset + 16) - EPOCH_DELTA_US,
      packet: bytes.slice(offset + RECORD_HEADER_BYTES, offset + RECORD_HEADER_BYTES + included),
    });
    offset += RECORD_HEADER_BYTES + included;
  }
  return records;
}
