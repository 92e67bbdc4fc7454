/**
 * One LE connection between two ports: ACL data with host flow control (Number of Completed
 * Packets), L2CAP reassembly so faults and statistics work on whole ATT PDUs, and
 * re-fragmentation into LL-sized ACL packets for the receiver, whose first packet carries
 * packet-boundary flag 0x02 whatever the sender used (hosts send 0x00 but accept only 0x02).
 */
import { performance } from 'node:perf_hooks';
import { isAtt, L2capReassembler, type AttRecord, type LinkDirection } from './att.js';
import type { Faults } from './faults.js';
import { ACL_PB_CONTINUATION, ACL_PB_FIRST_FLUSHABLE, aclPacket, L2CAP_HEADER_BYTES } from './hci.js';
import { numberOfCompletedPackets } from './hci.js';
import type { Port } from './port.js';

/** Air overhead of one LL data PDU around its payload: preamble 1, access address 4, header 2, CRC 3. */
export const LL_PDU_OVERHEAD_BYTES = 10;

export interface LinkEnd {
  readonly port: Port;
  readonly handle: number;
}

export interface ConnectionStats {
  readonly id: number;
  readonly central: string;
  readonly peripheral: string;
  readonly openedAtMs: number;
  closedAtMs: number | null;
  closeReason: number | null;
  readonly att: AttRecord[];
  /** ACL packets carried in each direction, after re-fragmentation. */
  readonly aclPackets: Record<LinkDirection, number>;
  /** LL data PDU bytes on the air (payload plus LL_PDU_OVERHEAD_BYTES each). */
  readonly airBytes: Record<LinkDirection, number>;
  readonly faultsFired: number;
}

export interface LinkTiming {
  /** Fixed latency of each packet across the air, ms. */
  readonly latencyMs: number;
  /** When > 0, packets move only at connection events spaced this far apart, ms. */
  readonly connectionIntervalMs: number;
  /** Largest ACL payload per LL PDU (27 without data length extension). */
  readonly aclDataLength: number;
}

export class Connection {
  readonly id: number;
  readonly central: LinkEnd;
  readonly peripheral: LinkEnd;
  readonly stats: ConnectionStats;
  #open = true;
  readonly #faults: Faults;
  readonly #timing: LinkTiming;
  readonly #onDisconnect: (connection: Connection, reason: number) => void;
  readonly #reassembly = {
    'central-to-peripheral': new L2capReassembler(),
    'peripheral-to-central': new L2capReassembler(),
  };
  readonly #lastDelivery = { 'central-to-peripheral': 0, 'peripheral-to-central': 0 };
  readonly #attIndex = { 'central-to-peripheral': 0, 'peripheral-to-central': 0 };
  readonly #held: Record<LinkDirection, Uint8Array | null> = {
    'central-to-peripheral': null,
    'peripheral-to-central': null,
  };
  #faultsFired = 0;

  constructor(
    id: number,
    central: LinkEnd,
    peripheral: LinkEnd,
    faults: Faults,
    timing: LinkTiming,
    onDisconnect: (connection: Connection, reason: number) => void,
  ) {
    this.id = id;
    this.central = central;
    this.peripheral = peripheral;
    this.#faults = faults;
    this.#timing = timing;
    this.#onDisconnect = onDisconnect;
    const zero = () => ({ 'central-to-peripheral': 0, 'peripheral-to-central': 0 });
    const self = this;
    this.stats = {
      id,
      central: central.port.name,
      peripheral: peripheral.port.name,
      openedAtMs: performance.now(),
      closedAtMs: null,
      closeReason: null,
      att: [],
      aclPackets: zero(),
      airBytes: zero(),
      get faultsFired() {
        return self.#faultsFired;
      },
    };
  }

  get open(): boolean {
    return this.#open;
  }

  /** When the last packet already queued on this link reaches its receiver (performance.now() ms). */
  get drainedAt(): number {
    return Math.max(this.#lastDelivery['central-to-peripheral'], this.#lastDelivery['peripheral-to-central']);
  }

  endOf(port: Port): LinkEnd {
    return port === this.central.port ? this.central : this.peripheral;
  }

  peerOf(port: Port): LinkEnd {
    return port === this.central.port ? this.peripheral : this.central;
  }

  /** One ACL packet from a host on this connection (handle already checked). */
  fromHost(port: Port, boundary: number, payload: Uint8Array): void {
    if (!this.#open) return;
    const direction: LinkDirection = port === this.central.port ? 'central-to-peripheral' : 'peripheral-to-central';
    const sender = this.endOf(port);
    // The packet leaves the controller's buffer at the next connection event: report it then.
    const sentAt = this.#eventTime(performance.now() + this.#timing.latencyMs);
    // The buffer is free once the host hears so, not before.
    port.send(
      numberOfCompletedPackets(sender.handle, 1),
      sentAt,
      () => (port.aclInFlight = Math.max(0, port.aclInFlight - 1)),
    );
    const pdu = this.#reassembly[direction].push(boundary, payload);
    if (pdu) this.#route(direction, pdu);
  }

  /** Delivers an ATT PDU as if `from` had sent it (replaying a capture, injecting garbage). */
  inject(from: Port, att: Uint8Array): void {
    const direction: LinkDirection = from === this.central.port ? 'central-to-peripheral' : 'peripheral-to-central';
    this.#forward(direction, l2capAtt(att), 0);
  }

  close(reason: number): void {
    if (!this.#open) return;
    this.#open = false;
    this.stats.closedAtMs = performance.now();
    this.stats.closeReason = reason;
  }

  #route(direction: LinkDirection, pdu: Uint8Array): void {
    let extraDelay = 0;
    let copies = 1;
    if (isAtt(pdu)) {
      const att = pdu.subarray(L2CAP_HEADER_BYTES);
      const from = direction === 'central-to-peripheral' ? this.central.port : this.peripheral.port;
      const to = direction === 'central-to-peripheral' ? this.peripheral.port : this.central.port;
      const view = {
        connectionId: this.id,
        from: from.name,
        to: to.name,
        direction,
        index: this.#attIndex[direction]++,
        opcode: att[0]!,
        att,
      };
      this.stats.att.push({
        direction,
        opcode: att[0]!,
        length: att.length,
        airBytes: this.#airBytes(pdu.length),
        atMs: performance.now(),
      });
      const action = this.#faults.decide(view);
      if (action) this.#faultsFired += 1;
      switch (action?.kind) {
        case 'drop':
          return;
        case 'disconnect':
          this.#onDisconnect(this, action.reason ?? 0x08);
          return;
        case 'hold-until-next':
          this.#held[direction] = pdu;
          return;
        case 'mutate':
          pdu = l2capAtt(action.mutate(att.slice()));
          break;
        case 'duplicate':
          copies = 2;
          break;
        case 'delay':
          extraDelay = action.ms;
          break;
        default:
      }
    }
    for (let i = 0; i < copies; i++) this.#forward(direction, pdu, extraDelay);
    const held = this.#held[direction];
    if (held) {
      this.#held[direction] = null;
      this.#forward(direction, held, 0);
    }
  }

  #forward(direction: LinkDirection, pdu: Uint8Array, extraDelay: number): void {
    if (!this.#open) return;
    const receiver = direction === 'central-to-peripheral' ? this.peripheral : this.central;
    // The link keeps order: a delayed PDU holds back the ones behind it.
    const at = this.#eventTime(
      Math.max(performance.now() + this.#timing.latencyMs + extraDelay, this.#lastDelivery[direction]),
    );
    this.#lastDelivery[direction] = at;
    const size = this.#timing.aclDataLength;
    for (let offset = 0; offset < pdu.length; offset += size) {
      const chunk = pdu.subarray(offset, Math.min(pdu.length, offset + size));
      receiver.port.send(
        aclPacket(receiver.handle, offset === 0 ? ACL_PB_FIRST_FLUSHABLE : ACL_PB_CONTINUATION, chunk),
        at,
      );
      this.stats.aclPackets[direction] += 1;
      this.stats.airBytes[direction] += chunk.length + LL_PDU_OVERHEAD_BYTES;
    }
  }

  #airBytes(l2capLength: number): number {
    return l2capLength + Math.ceil(l2capLength / this.#timing.aclDataLength) * LL_PDU_OVERHEAD_BYTES;
  }

  /** The first connection event at or after `t`. */
  #eventTime(t: number): number {
    const interval = this.#timing.connectionIntervalMs;
    if (interval <= 0) return t;
    const start = this.stats.openedAtMs;
    return start + Math.ceil((t - start) / interval) * interval;
  }
}

function l2capAtt(att: Uint8Array): Uint8Array {
  const pdu = new Uint8Array(L2CAP_HEADER_BYTES + att.length);
  pdu[0] = att.length & 0xff;
  pdu[1] = att.length >> 8;
  pdu[2] = 0x04;
  pdu[3] = 0x00;
  pdu.set(att, L2CAP_HEADER_BYTES);
  return pdu;
}
