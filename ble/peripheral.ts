/**
 * The phone side (GATT peripheral, @stoprocent/bleno): advertises the rotating tag of its
 * pairings, serves the Latchkey GATT service (docs/ble-protocol.md §2–3) and runs one
 * PhoneSession per connection, asking `approve` before it answers.
 */
import { EventEmitter } from 'node:events';
import type { Bleno, ConnectionHandle } from '@stoprocent/bleno';
import { withTimeout } from './errors.js';
import { PhonePairingSession, type PhonePairingOutcome } from './phone-pairing-session.js';
import { PhoneSession, type Approver, type CopyKeySource } from './phone-session.js';
import type { PeripheralSession, PhoneSessionOutcome } from './phone-session.js';
import { CONTROL_POINT_UUID, GATT_DEVICE_NAME, RESPONSE_UUID, SERVICE_UUID } from './protocol/constants.js';
import { SLOT_SECONDS } from './protocol/constants.js';
import { HelloReplayCache } from './protocol/handshake-phone.js';
import { checkPhonePairing, type PhonePairing } from './protocol/pairing-records.js';
import { derivePairTagKey } from './protocol/pairing-code.js';
import { ErrorCode } from './protocol/message-codec.js';
import { PhonePairingHandshake, type PairedPeer, type PairingSetup } from './protocol/pairing-handshake.js';
import { deriveTagKey, encodeAdvertisingData, rotatingTag, slotAt } from './protocol/tag.js';
import { blenoClasses, createBleno, openRadio, type BleTransport } from './stack.js';
import type { RandomSource } from '../protocol/crypto/hashes.js';

export interface PhonePeripheralOptions {
  readonly transport: BleTransport;
  readonly pairings: readonly PhonePairing[];
  readonly approve: Approver;
  /** Makes the copy key for request 0x02 (docs/windows.md §6.5); absent: the phone releases nothing. */
  readonly copyKey?: CopyKeySource;
  /** Wall clock for tag slots (ms since the epoch). */
  readonly clock?: () => number;
  readonly random?: RandomSource;
  readonly approvalPromptMs?: number;
  readonly helloTimeoutMs?: number;
  readonly verdictTimeoutMs?: number;
  /** With several pairings, how long each pairing's tag is advertised before the next (ms). */
  readonly tagCycleMs?: number;
  readonly powerOnTimeoutMs?: number;
}

/** A phone that waits to be paired (§12): it advertises the pairing tag of the code it was given. */
export interface PhonePairingPeripheralOptions {
  readonly transport: BleTransport;
  readonly setup: Omit<PairingSetup, 'random'>;
  /** Keeps the new pairing; resolves true once it is durable. */
  readonly store: (peer: PairedPeer) => Promise<boolean>;
  readonly clock?: () => number;
  readonly random?: RandomSource;
  readonly stepTimeoutMs?: number;
  readonly powerOnTimeoutMs?: number;
}

/** What differs between serving unlocks and waiting to be paired: the tags, and the session per connection. */
interface Mode {
  readonly tagKeys: readonly Uint8Array[];
  readonly clock: () => number;
  readonly tagCycleMs?: number | undefined;
  session(address: string, disconnect: () => void): PeripheralSession;
}

const RESULT_SUCCESS = 0x00;

/**
 * Emits 'session' with a PhoneSessionOutcome when a connection's unlock exchange ends, or
 * 'pairing' with a PhonePairingOutcome when a pairing connection ends.
 */
export class PhonePeripheral extends EventEmitter {
  readonly #bleno: Bleno;
  readonly #mode: Mode;
  readonly #sessions = new Map<ConnectionHandle, PeripheralSession>();
  #cycle = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #quiet = false;
  readonly outcomes: PhoneSessionOutcome[] = [];

  private constructor(bleno: Bleno, mode: (peripheral: PhonePeripheral) => Mode) {
    super();
    this.#bleno = bleno;
    this.#mode = mode(this);
  }

  /** Serves unlocks for its pairings (§2–5). */
  static async start(options: PhonePeripheralOptions): Promise<PhonePeripheral> {
    if (options.pairings.length === 0) throw new RangeError('pairings must hold at least one pairing');
    for (const pairing of options.pairings) checkPhonePairing(pairing);
    const replayCache = new HelloReplayCache();
    const clock = options.clock ?? Date.now;
    return PhonePeripheral.#open(options.transport, options.powerOnTimeoutMs, (peripheral) => ({
      tagKeys: options.pairings.map((p) => deriveTagKey(p.pairingKey)),
      clock,
      tagCycleMs: options.tagCycleMs,
      session: (address, disconnect) =>
        new PhoneSession(address, {
          pairings: options.pairings,
          replayCache,
          approve: options.approve,
          ...(options.copyKey && { copyKey: options.copyKey }),
          clock,
          ...(options.random && { random: options.random }),
          ...(options.approvalPromptMs !== undefined && { approvalPromptMs: options.approvalPromptMs }),
          ...(options.helloTimeoutMs !== undefined && { helloTimeoutMs: options.helloTimeoutMs }),
          ...(options.verdictTimeoutMs !== undefined && { verdictTimeoutMs: options.verdictTimeoutMs }),
          disconnect,
          onOutcome: (outcome) => {
            peripheral.outcomes.push(outcome);
            peripheral.emit('session', outcome);
          },
        }),
    }));
  }

  /** Waits to be paired (§12): advertises the pairing tag and runs a pairing session per connection. */
  static async startPairing(options: PhonePairingPeripheralOptions): Promise<PhonePeripheral> {
    const clock = options.clock ?? Date.now;
    return PhonePeripheral.#open(options.transport, options.powerOnTimeoutMs, (peripheral) => ({
      tagKeys: [derivePairTagKey(options.setup.pairingId)],
      clock,
      session: (address, disconnect) =>
        new PhonePairingSession(address, {
          handshake: new PhonePairingHandshake({ ...options.setup, ...(options.random && { random: options.random }) }),
          clock,
          store: options.store,
          disconnect,
          ...(options.stepTimeoutMs !== undefined && { stepTimeoutMs: options.stepTimeoutMs }),
          onOutcome: (outcome: PhonePairingOutcome) => {
            // Paired, or told the code is wrong: nothing more to wait for until the person acts again.
            if (outcome.ok || (outcome.code === 'peer-error' && outcome.peerCode === ErrorCode.pairingRefused))
              void peripheral.stopAdvertising();
            peripheral.emit('pairing', outcome);
          },
        }),
    }));
  }

  static async #open(
    transport: BleTransport,
    powerOnTimeoutMs: number | undefined,
    mode: (peripheral: PhonePeripheral) => Mode,
  ): Promise<PhonePeripheral> {
    const bleno = await openRadio(transport, createBleno, powerOnTimeoutMs ?? 5_000);
    const peripheral = new PhonePeripheral(bleno, mode);
    await peripheral.#serve();
    return peripheral;
  }

  get address(): string {
    return this.#bleno.address;
  }

  /** Re-reads the clock and advertises the current tag now (the slot timer does this by itself). */
  async refreshAdvertising(): Promise<void> {
    clearTimeout(this.#timer);
    await this.#advertise();
  }

  /** Stops advertising (the slot timer too); connections already up go on. */
  async stopAdvertising(): Promise<void> {
    this.#quiet = true;
    clearTimeout(this.#timer);
    await withTimeout(this.#bleno.stopAdvertisingAsync(), 500, () => new Error('no advertising report')).catch(
      () => undefined,
    );
  }

  /** Changes the adapter address (a vendor command; real phones rotate it in the OS). */
  async setAddress(address: string): Promise<void> {
    await this.#bleno.setAddressAsync(address);
    await this.refreshAdvertising();
  }

  /** Resolves with the next session outcome. */
  nextOutcome(timeoutMs = 10_000): Promise<PhoneSessionOutcome> {
    return this.#next('session', timeoutMs);
  }

  /** Resolves with the next pairing outcome (a phone started with startPairing). */
  nextPairing(timeoutMs = 10_000): Promise<PhonePairingOutcome> {
    return this.#next('pairing', timeoutMs);
  }

  #next<T>(event: 'session' | 'pairing', timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no phone ${event} ended in time`)), timeoutMs);
      this.once(event, (outcome: T) => {
        clearTimeout(timer);
        resolve(outcome);
      });
    });
  }

  /** Stops advertising first and waits for the adapter to confirm (bleno's own stop closes the transport before its last command leaves), then stops. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.stopAdvertising();
    this.#bleno.removeAllListeners('accept');
    this.#bleno.removeAllListeners('disconnect');
    this.#bleno.stop();
  }

  async #serve(): Promise<void> {
    const { Characteristic, PrimaryService } = blenoClasses();
    const sessionFor = (handle: ConnectionHandle) => this.#sessions.get(handle);
    const controlPoint = new Characteristic({
      uuid: CONTROL_POINT_UUID,
      properties: ['write', 'writeWithoutResponse'],
      onWriteRequest: (
        handle: ConnectionHandle,
        data: Buffer,
        _offset: number,
        _withoutResponse: boolean,
        callback: (result: number) => void,
      ) => {
        callback(RESULT_SUCCESS);
        sessionFor(handle)?.write(new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice());
      },
    } as ConstructorParameters<typeof Characteristic>[0]);
    const response = new Characteristic({
      uuid: RESPONSE_UUID,
      properties: ['notify'],
      onSubscribe: (handle: ConnectionHandle, maxValueSize: number, update: (data: Buffer) => void) => {
        sessionFor(handle)?.subscribed(maxValueSize, (fragment) => update(Buffer.from(fragment)));
      },
    } as ConstructorParameters<typeof Characteristic>[0]);
    this.#bleno.on('accept', (address, handle) => this.#accept(address, handle));
    this.#bleno.on('disconnect', (_address, handle) => {
      this.#sessions.get(handle)?.disconnected();
      this.#sessions.delete(handle);
    });
    await this.#bleno.setServicesAsync([
      new PrimaryService({ uuid: SERVICE_UUID, characteristics: [controlPoint, response] }),
    ]);
    // The GATT device name must not be the phone's own name (§2); bleno takes it from the host name.
    (
      this.#bleno as unknown as { _bindings?: { _gatt?: { updateName?: (name: string) => void } } }
    )._bindings?._gatt?.updateName?.(GATT_DEVICE_NAME);
    await this.#advertise();
  }

  #accept(address: string, handle: ConnectionHandle): void {
    const session = this.#mode.session(address, () => {
      // bleno 0.12.4 takes the handle although its typings say it takes nothing.
      if (this.#sessions.has(handle))
        (this.#bleno.disconnect as (handle?: ConnectionHandle) => void).call(this.#bleno, handle);
    });
    this.#sessions.set(handle, session);
  }

  /** Advertises the tag of the current slot (cycling pairings), then re-arms for the next change. */
  async #advertise(): Promise<void> {
    if (this.#stopped || this.#quiet) return;
    const now = this.#mode.clock();
    const tagKeys = this.#mode.tagKeys;
    const index = this.#cycle++ % tagKeys.length;
    const tag = rotatingTag(tagKeys[index]!, slotAt(now));
    // bleno reports "advertising started" only from its own idle state; when it is restarting
    // advertising after a disconnect the report never comes, although the controller got the new
    // data and advertises it. So wait for the report a short while, never forever.
    await withTimeout(
      this.#bleno.startAdvertisingWithEIRDataAsync(Buffer.from(encodeAdvertisingData(tag)), Buffer.alloc(0)),
      500,
      () => new Error('no advertising report'),
    ).catch(() => undefined);
    const untilSlot = SLOT_SECONDS * 1000 - (now % (SLOT_SECONDS * 1000)) + 5;
    const wait = tagKeys.length > 1 ? Math.min(this.#mode.tagCycleMs ?? 1_000, untilSlot) : untilSlot;
    this.#timer = setTimeout(() => void this.#advertise().catch(() => undefined), wait);
    this.#timer.unref();
  }
}
