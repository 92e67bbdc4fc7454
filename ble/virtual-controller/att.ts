/**
 * What the controller sees of each connection's ATT traffic: L2CAP reassembly per direction, a
 * record per ATT PDU, and the round-trip count the benchmark reports.
 */
import { ACL_PB_CONTINUATION, ATT_CID, L2CAP_HEADER_BYTES } from './hci.js';

export type LinkDirection = 'central-to-peripheral' | 'peripheral-to-central';

export interface AttRecord {
  readonly direction: LinkDirection;
  readonly opcode: number;
  /** ATT PDU length (opcode included). */
  readonly length: number;
  /** Bytes this PDU took on the air: its L2CAP PDU cut into LL data PDUs, each with its overhead. */
  readonly airBytes: number;
  readonly atMs: number;
}

export const AttOpcode = {
  error: 0x01,
  mtuRequest: 0x02,
  mtuResponse: 0x03,
  writeRequest: 0x12,
  writeResponse: 0x13,
  notification: 0x1b,
  writeCommand: 0x52,
} as const;

/** Reassembles L2CAP PDUs from one direction's ACL packets (Core Vol 3 Part A 3.1). */
export class L2capReassembler {
  #pending: { expected: number; parts: Uint8Array[]; received: number } | null = null;

  /** Returns the complete L2CAP PDU (header included) this ACL payload finishes, or null. */
  push(boundary: number, payload: Uint8Array): Uint8Array | null {
    if (boundary !== ACL_PB_CONTINUATION) {
      this.#pending = null;
      if (payload.length < L2CAP_HEADER_BYTES) return null;
      const expected = L2CAP_HEADER_BYTES + (payload[0]! | (payload[1]! << 8));
      this.#pending = { expected, parts: [payload], received: payload.length };
    } else if (this.#pending) {
      this.#pending.parts.push(payload);
      this.#pending.received += payload.length;
    } else {
      return null;
    }
    if (this.#pending.received < this.#pending.expected) return null;
    const { expected, parts } = this.#pending;
    this.#pending = null;
    const pdu = new Uint8Array(expected);
    let offset = 0;
    for (const part of parts) {
      const take = Math.min(part.length, expected - offset);
      pdu.set(part.subarray(0, take), offset);
      offset += take;
    }
    return pdu;
  }
}

export function l2capCid(pdu: Uint8Array): number {
  return pdu[2]! | (pdu[3]! << 8);
}

export function isAtt(pdu: Uint8Array): boolean {
  return pdu.length > L2CAP_HEADER_BYTES && l2capCid(pdu) === ATT_CID;
}

/**
 * Round trips in a run of ATT records: each maximal run of central → peripheral PDUs that is
 * answered by a run of peripheral → central PDUs counts one (a GATT request and its response,
 * or the unlock's fragments and the notifications that answer them).
 */
export function countRoundTrips(records: readonly AttRecord[]): number {
  let trips = 0;
  let previous: LinkDirection | null = null;
  let sawCentral = false;
  for (const record of records) {
    if (record.direction === 'central-to-peripheral') sawCentral = true;
    else if (previous === 'central-to-peripheral' && sawCentral) trips += 1;
    previous = record.direction;
  }
  return trips;
}

/**
 * Where a Latchkey unlock exchange starts in a connection's ATT log: the first write carrying at
 * least 3 value bytes (a fragment, docs/ble-protocol.md §4); GATT setup writes only the 2-byte
 * CCCD value before it.
 */
export function unlockExchangeStart(records: readonly AttRecord[]): number {
  return records.findIndex(
    (r) => (r.opcode === AttOpcode.writeCommand || r.opcode === AttOpcode.writeRequest) && r.length >= 6,
  );
}
