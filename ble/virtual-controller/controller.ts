/**
 * A virtual LE controller shared by several hosts (docs/ble-virtual-controller.md): it answers
 * their HCI commands, relays advertising and scan responses between them, connects them, and
 * carries their ACL data with flow control, fault injection and btsnoop capture.
 */
import { mkdirSync } from 'node:fs';
import { randomBytes } from '../../protocol/crypto/hashes.js';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { handleCommand, type ControllerActions } from './commands.js';
import { Faults } from './faults.js';
import { ACL_PB_CONTINUATION, AdvReport, AdvType, disconnectionComplete, H4, leAdvertisingReport } from './hci.js';
import {
  addressToBytes,
  leConnectionComplete,
  leConnectionFailed,
  randomAddress,
  Status,
  type AirAddress,
} from './hci.js';
import { Connection, type ConnectionStats } from './link.js';
import { Port } from './port.js';

export interface VirtualControllerOptions {
  /** Writes one btsnoop file per port here (`<port>.btsnoop`). */
  readonly captureDir?: string;
  /** LE ACL buffers the controller reports (hosts keep at most this many packets in flight). */
  readonly aclBufferCount?: number;
  /** Largest ACL payload per packet and per LL PDU (27 = no data length extension). */
  readonly aclDataLength?: number;
  /** Fixed one-way latency of every packet across the air, ms. */
  readonly linkLatencyMs?: number;
  /** When > 0, ACL data moves only at connection events this far apart, ms (7.5–4000 on real links). */
  readonly connectionIntervalMs?: number;
  /** Overrides every host's advertising interval, ms (real hosts ask for 20–10240). */
  readonly advertisingIntervalMs?: number;
  readonly random?: (length: number) => Uint8Array;
}

export class VirtualController {
  readonly faults = new Faults();
  readonly #options: Required<Omit<VirtualControllerOptions, 'captureDir' | 'advertisingIntervalMs'>> &
    Pick<VirtualControllerOptions, 'captureDir' | 'advertisingIntervalMs'>;
  readonly #ports = new Map<string, Port>();
  readonly #connections: Connection[] = [];
  readonly #advTimers = new Map<Port, NodeJS.Timeout>();
  readonly #pending = new Set<NodeJS.Timeout>();
  readonly #actions: ControllerActions;
  #nextConnectionId = 1;
  #closed = false;

  constructor(options: VirtualControllerOptions = {}) {
    this.#options = {
      aclBufferCount: options.aclBufferCount ?? 8,
      aclDataLength: options.aclDataLength ?? 27,
      linkLatencyMs: options.linkLatencyMs ?? 0,
      connectionIntervalMs: options.connectionIntervalMs ?? 0,
      random: options.random ?? randomBytes,
      captureDir: options.captureDir,
      advertisingIntervalMs: options.advertisingIntervalMs,
    };
    if (this.#options.aclDataLength < 27 || this.#options.aclDataLength > 251)
      throw new RangeError(`aclDataLength must be 27–251 (got ${this.#options.aclDataLength})`);
    if (this.#options.aclBufferCount < 1)
      throw new RangeError(`aclBufferCount must be ≥ 1 (got ${this.#options.aclBufferCount})`);
    if (this.#options.captureDir) mkdirSync(this.#options.captureDir, { recursive: true });
    this.#actions = {
      aclDataLength: this.#options.aclDataLength,
      aclBufferCount: this.#options.aclBufferCount,
      random: this.#options.random,
      reset: (port) => this.#reset(port),
      advertisingChanged: (port) => this.#advertisingChanged(port),
      scanningChanged: (port) => {
        if (port.scanning.enabled) for (const other of this.#ports.values()) this.#advertiseTo(other, port);
      },
      initiate: (port) => this.#initiate(port),
      cancelInitiate: (port) => this.#cancelInitiate(port),
      disconnect: (port, handle, reason) => {
        const connection = port.connections.get(handle);
        if (!connection) return false;
        // LL_TERMINATE_IND goes out after the data the hosts already queued, as on a real link.
        this.#disconnect(connection, new Map([[port, Status.localHostTerminated]]), reason, { flush: true });
        return true;
      },
    };
  }

  /** Adds a host slot. Its public address defaults to a locally administered one. */
  addPort(name: string, options: { address?: string; rssi?: number } = {}): Port {
    if (this.#closed) throw new Error('the virtual controller is closed');
    if (!/^[A-Za-z0-9_.-]{1,40}$/.test(name))
      throw new TypeError(`port name must be 1–40 letters, digits, . _ - (got ${name})`);
    if (this.#ports.has(name)) throw new Error(`port ${name} already exists`);
    const index = this.#ports.size;
    const address = options.address ?? `02:4c:4b:00:00:${(index + 1).toString(16).padStart(2, '0')}`;
    addressToBytes(address);
    const port = new Port(name, index, address);
    if (options.rssi !== undefined) port.rssi = options.rssi;
    if (this.#options.captureDir) port.startCapture(join(this.#options.captureDir, `${name}.btsnoop`));
    this.#ports.set(name, port);
    return port;
  }

  port(name: string): Port {
    const port = this.#ports.get(name);
    if (!port) throw new Error(`no port named ${name}`);
    return port;
  }

  get ports(): readonly Port[] {
    return [...this.#ports.values()];
  }

  /** Every connection so far, open or closed, with its ATT log, packet and air-byte counts. */
  get connections(): readonly ConnectionStats[] {
    return this.#connections.map((c) => c.stats);
  }

  /** The open connection between two ports, if any. */
  openConnection(central: string, peripheral: string): Connection | null {
    return (
      this.#connections.find(
        (c) => c.open && c.central.port.name === central && c.peripheral.port.name === peripheral,
      ) ?? null
    );
  }

  /** The port's signal as others hear it (advertising reports and Read RSSI), in dBm. */
  setRssi(name: string, dbm: number): void {
    if (!Number.isInteger(dbm) || dbm < -127 || dbm > 20)
      throw new RangeError(`rssi must be an integer dBm in −127…20 (got ${dbm})`);
    this.port(name).rssi = dbm;
  }

  /** Gives the port a fresh random address on air, as a phone's OS rotates it; returns it. */
  rotateAddress(name: string, address = randomAddress(this.#options.random)): string {
    addressToBytes(address);
    const port = this.port(name);
    port.privacyAddress = address;
    this.#advertisingChanged(port);
    return address;
  }

  /**
   * The port's host went away (its process ended, its pty closed): the radio goes quiet as if the
   * machine were switched off — no more advertising or scanning, and its links time out for peers.
   */
  hostGone(name: string): void {
    this.#reset(this.port(name));
  }

  /** Cuts an open connection as a supervision timeout would (both sides get reason 0x08). */
  dropConnection(connection: Connection): void {
    this.#disconnect(connection, new Map(), Status.connectionTimeout);
  }

  /** One H4 packet from a host (type byte first). Malformed packets are dropped, never thrown. */
  receive(port: Port, packet: Uint8Array): void {
    if (this.#closed || packet.length === 0) return;
    port.captureFromHost(packet);
    if (packet[0] === H4.command && packet.length >= 4 && packet.length === 4 + packet[3]!) {
      handleCommand(this.#actions, port, packet[1]! | (packet[2]! << 8), packet.subarray(4));
    } else if (packet[0] === H4.acl && packet.length >= 5 && packet.length === 5 + (packet[3]! | (packet[4]! << 8))) {
      this.#acl(port, packet);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#advTimers.values()) clearInterval(timer);
    for (const timer of this.#pending) clearTimeout(timer);
    for (const connection of this.#connections) connection.close(Status.localHostTerminated);
    for (const port of this.#ports.values()) port.close();
  }

  #acl(port: Port, packet: Uint8Array): void {
    const handle = (packet[1]! | (packet[2]! << 8)) & 0x0fff;
    const boundary = (packet[2]! >> 4) & 0x03;
    const connection = port.connections.get(handle);
    if (!connection) return;
    port.aclInFlight += 1;
    const length = packet.length - 5;
    if (port.aclInFlight > this.#options.aclBufferCount || length > this.#options.aclDataLength)
      port.flowViolations += 1;
    connection.fromHost(port, boundary === ACL_PB_CONTINUATION ? ACL_PB_CONTINUATION : 0x02, packet.subarray(5));
  }

  #reset(port: Port): void {
    for (const connection of [...port.connections.values()]) {
      // The resetting host forgets its links silently; the peer sees a supervision timeout.
      this.#disconnect(connection, new Map([[port, -1]]), Status.connectionTimeout);
    }
    port.advertising = { ...port.advertising, enabled: false };
    port.scanning = { enabled: false, active: false, ownAddressType: 0, filterDuplicates: false, seen: new Set() };
    port.initiating = null;
    port.randomAddress = null;
    port.aclInFlight = 0;
    this.#advertisingChanged(port);
  }

  #advertisingChanged(port: Port): void {
    const timer = this.#advTimers.get(port);
    if (timer) clearInterval(timer);
    this.#advTimers.delete(port);
    if (!port.advertising.enabled || this.#closed) return;
    for (const scanner of this.#ports.values()) this.#advertiseTo(port, scanner);
    const interval = this.#options.advertisingIntervalMs ?? port.advertising.intervalMs;
    const next = setInterval(() => {
      for (const scanner of this.#ports.values()) this.#advertiseTo(port, scanner);
    }, interval);
    next.unref();
    this.#advTimers.set(port, next);
    for (const initiator of this.#ports.values()) if (initiator.initiating) this.#initiate(initiator);
  }

  #advertiseTo(advertiser: Port, scanner: Port): void {
    const adv = advertiser.advertising;
    if (advertiser === scanner || !adv.enabled || !scanner.scanning.enabled || !scanner.attached) return;
    if (adv.type === AdvType.advDirectIndHigh || adv.type === AdvType.advDirectIndLow) return;
    const air = advertiser.airAddress(adv.ownAddressType);
    const type =
      adv.type === AdvType.advInd
        ? AdvReport.advInd
        : adv.type === AdvType.advScanInd
          ? AdvReport.advScanInd
          : AdvReport.advNonconnInd;
    this.#report(scanner, type, air, adv.data, advertiser.rssi);
    if (scanner.scanning.active && type !== AdvReport.advNonconnInd)
      this.#report(scanner, AdvReport.scanRsp, air, adv.scanResponse, advertiser.rssi);
  }

  #report(scanner: Port, type: number, air: AirAddress, data: Uint8Array, rssi: number): void {
    if (scanner.scanning.filterDuplicates) {
      const key = `${air.address}/${air.type}/${type}/${Buffer.from(data).toString('hex')}`;
      if (scanner.scanning.seen.has(key)) return;
      scanner.scanning.seen.add(key);
    }
    scanner.send(leAdvertisingReport(type, air, data, rssi));
  }

  #initiate(initiator: Port): void {
    const want = initiator.initiating;
    if (!want) return;
    const failure = this.faults.takeConnectionFailure();
    if (failure !== null) {
      initiator.initiating = null;
      this.#later(this.faults.connectDelayMs, () => initiator.send(leConnectionFailed(failure)));
      return;
    }
    const target = [...this.#ports.values()].find((p) => {
      if (p === initiator || !p.advertising.enabled) return false;
      if (
        p.advertising.type !== AdvType.advInd &&
        p.advertising.type !== AdvType.advDirectIndHigh &&
        p.advertising.type !== AdvType.advDirectIndLow
      )
        return false;
      const air = p.airAddress(p.advertising.ownAddressType);
      return air.address === want.peerAddress && air.type === want.peerAddressType;
    });
    // No such advertiser yet: keep initiating, as a real controller does, until it shows up or the host cancels.
    if (!target) return;
    initiator.initiating = null;
    target.advertising = { ...target.advertising, enabled: false };
    this.#advertisingChanged(target);
    const peripheralAir = target.airAddress(target.advertising.ownAddressType);
    const centralAir = initiator.airAddress(want.ownAddressType);
    this.#later(this.faults.connectDelayMs, () => {
      const connection = new Connection(
        this.#nextConnectionId++,
        { port: initiator, handle: initiator.allocateHandle() },
        { port: target, handle: target.allocateHandle() },
        this.faults,
        {
          latencyMs: this.#options.linkLatencyMs,
          connectionIntervalMs: this.#options.connectionIntervalMs,
          aclDataLength: this.#options.aclDataLength,
        },
        (c, reason) => this.#disconnect(c, new Map(), reason),
      );
      this.#connections.push(connection);
      initiator.connections.set(connection.central.handle, connection);
      target.connections.set(connection.peripheral.handle, connection);
      initiator.send(leConnectionComplete(connection.central.handle, 0, peripheralAir, want));
      target.send(leConnectionComplete(connection.peripheral.handle, 1, centralAir, want));
    });
  }

  #cancelInitiate(initiator: Port): void {
    initiator.initiating = null;
    // Core Vol 4 Part E 7.8.13: the cancelled attempt completes with Unknown Connection Identifier.
    initiator.send(leConnectionFailed(Status.unknownConnection));
  }

  /**
   * Closes a link; `reasons` overrides the reason per port (−1: tell that port nothing). With
   * `flush`, data already queued reaches its receiver first (a host's Disconnect); without, it is
   * lost (a supervision timeout).
   */
  #disconnect(
    connection: Connection,
    reasons: Map<Port, number>,
    reason: number,
    options: { flush?: boolean } = {},
  ): void {
    if (!connection.open) return;
    const at = options.flush ? Math.max(performance.now(), connection.drainedAt) : performance.now();
    connection.close(reason);
    for (const end of [connection.central, connection.peripheral]) {
      end.port.connections.delete(end.handle);
      if (!options.flush) end.port.dropQueuedAcl(end.handle);
      const told = reasons.get(end.port) ?? reason;
      if (told >= 0) end.port.send(disconnectionComplete(end.handle, told), at);
    }
  }

  #later(ms: number, fn: () => void): void {
    if (ms <= 0) {
      fn();
      return;
    }
    const timer = setTimeout(() => {
      this.#pending.delete(timer);
      if (!this.#closed) fn();
    }, ms);
    this.#pending.add(timer);
  }
}
