/**
 * One host's attachment to the virtual controller: its addresses, advertising and scanning
 * state, its connections, and an ordered outbox of H4 packets to the host (captured to btsnoop).
 */
import { performance } from 'node:perf_hooks';
import { BtsnoopWriter } from './btsnoop.js';
import type { Connection } from './link.js';

export type PacketSink = (packet: Uint8Array) => void;

export interface AdvertisingState {
  enabled: boolean;
  type: number;
  ownAddressType: number;
  intervalMs: number;
  data: Uint8Array;
  scanResponse: Uint8Array;
}

export interface ScanState {
  enabled: boolean;
  active: boolean;
  ownAddressType: number;
  filterDuplicates: boolean;
  seen: Set<string>;
}

export interface InitiatingState {
  readonly peerAddress: string;
  readonly peerAddressType: number;
  readonly ownAddressType: number;
  readonly intervalUnits: number;
  readonly latency: number;
  readonly timeoutUnits: number;
}

interface Queued {
  readonly at: number;
  readonly seq: number;
  readonly packet: Uint8Array;
  readonly delivered: (() => void) | undefined;
}

export class Port {
  readonly name: string;
  readonly index: number;
  publicAddress: string;
  randomAddress: string | null = null;
  /** Controller-level privacy, as a phone's OS does it: the address peers see, whatever the host asks. */
  privacyAddress: string | null = null;
  /** RSSI at which others hear this port, in dBm. */
  rssi = -50;
  advertising: AdvertisingState = {
    enabled: false,
    type: 0,
    ownAddressType: 0,
    intervalMs: 100,
    data: new Uint8Array(0),
    scanResponse: new Uint8Array(0),
  };
  scanning: ScanState = { enabled: false, active: false, ownAddressType: 0, filterDuplicates: false, seen: new Set() };
  initiating: InitiatingState | null = null;
  readonly connections = new Map<number, Connection>();
  /** ACL packets the host sent that the controller has not yet reported completed. */
  aclInFlight = 0;
  /** Host flow-control violations (more ACL packets than buffers, or longer than the buffer). */
  flowViolations = 0;
  #nextHandle: number;
  #sink: PacketSink | null = null;
  #capture: BtsnoopWriter | null = null;
  #outbox: Queued[] = [];
  #seq = 0;
  #timer: NodeJS.Timeout | NodeJS.Immediate | null = null;
  #timerAt = Infinity;

  constructor(name: string, index: number, publicAddress: string) {
    this.name = name;
    this.index = index;
    this.publicAddress = publicAddress;
    // Handles differ between ports, so a host that mixed up handles would fail visibly.
    this.#nextHandle = 0x0040 + 0x20 * index;
  }

  get attached(): boolean {
    return this.#sink !== null;
  }

  allocateHandle(): number {
    const handle = this.#nextHandle;
    this.#nextHandle = this.#nextHandle >= 0x0eff ? 0x0040 : this.#nextHandle + 1;
    return handle;
  }

  /** The address this port shows on air for an own-address type (0 public, 1 random). */
  airAddress(ownAddressType: number): { address: string; type: number } {
    if (this.privacyAddress) return { address: this.privacyAddress, type: 1 };
    if (ownAddressType === 1 && this.randomAddress) return { address: this.randomAddress, type: 1 };
    return { address: this.publicAddress, type: 0 };
  }

  attach(sink: PacketSink): void {
    this.#sink = sink;
    this.#arm();
  }

  detach(): void {
    this.#sink = null;
    this.#outbox = [];
    this.#clearTimer();
  }

  startCapture(path: string): void {
    this.#capture?.close();
    this.#capture = new BtsnoopWriter(path);
  }

  /** Called for every packet from the host, before it is handled. */
  captureFromHost(packet: Uint8Array): void {
    this.#capture?.write('host-to-controller', packet);
  }

  /** Queues a packet for the host at `at` (performance.now() ms; now by default), in order. */
  send(packet: Uint8Array, at = performance.now(), delivered?: () => void): void {
    if (this.#sink === null) return;
    const entry = { at, seq: this.#seq++, packet, delivered };
    let i = this.#outbox.length;
    while (i > 0 && this.#outbox[i - 1]!.at > at) i -= 1;
    this.#outbox.splice(i, 0, entry);
    this.#arm();
  }

  /** Forgets queued ACL packets of a handle that just closed (the host would drop them anyway). */
  dropQueuedAcl(handle: number): void {
    this.#outbox = this.#outbox.filter(
      ({ packet }) => !(packet[0] === 0x02 && ((packet[1]! | (packet[2]! << 8)) & 0x0fff) === handle),
    );
  }

  close(): void {
    this.detach();
    this.#capture?.close();
    this.#capture = null;
  }

  #arm(): void {
    const first = this.#outbox[0];
    if (!first || this.#sink === null) return;
    if (this.#timer !== null && this.#timerAt <= first.at) return;
    this.#clearTimer();
    const wait = first.at - performance.now();
    this.#timerAt = first.at;
    this.#timer = wait <= 0 ? setImmediate(() => this.#flush()) : setTimeout(() => this.#flush(), Math.ceil(wait));
  }

  #flush(): void {
    this.#timer = null;
    this.#timerAt = Infinity;
    const now = performance.now();
    while (this.#outbox.length > 0 && this.#outbox[0]!.at <= now + 0.5 && this.#sink !== null) {
      const { packet, delivered } = this.#outbox.shift()!;
      this.#capture?.write('controller-to-host', packet);
      delivered?.();
      this.#sink(packet);
    }
    this.#arm();
  }

  #clearTimer(): void {
    if (this.#timer !== null) {
      clearTimeout(this.#timer as NodeJS.Timeout);
      clearImmediate(this.#timer as NodeJS.Immediate);
    }
    this.#timer = null;
    this.#timerAt = Infinity;
  }
}
