/**
 * The phone side (GATT peripheral, @stoprocent/bleno): advertises the rotating tag of its
 * pairings, serves the Latchkey GATT service (docs/ble-protocol.md §2–3) and runs one
 * PhoneSession per connection, asking `approve` before it answers.
 */
import { EventEmitter } from 'node:events';
import type { Bleno, ConnectionHandle } from '@stoprocent/bleno';
import { BleTransportError, withTimeout } from './errors.js';
import { PhoneSession, type Approver, type PhoneSessionOutcome } from './phone-session.js';
import { CONTROL_POINT_UUID, GATT_DEVICE_NAME, RESPONSE_UUID, SERVICE_UUID, SLOT_SECONDS } from './protocol/constants.js';
import type { RandomSource } from './protocol/crypto.js';
import { HelloReplayCache } from './protocol/handshake-phone.js';
import { checkPhonePairing, type PhonePairing } from './protocol/pairing.js';
import { deriveTagKey, encodeAdvertisingData, rotatingTag, slotAt } from './protocol/tag.js';
import { blenoClasses, createBleno, type BleTransport } from './stack.js';

export interface PhonePeripheralOptions {
  readonly transport: BleTransport;
  readonly pairings: readonly PhonePairing[];
  readonly approve: Approver;
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

const RESULT_SUCCESS = 0x00;

/** Emits 'session' with a PhoneSessionOutcome when a connection's exchange ends. */
export class PhonePeripheral extends EventEmitter {
  readonly #bleno: Bleno;
  readonly #options: PhonePeripheralOptions;
  readonly #replayCache = new HelloReplayCache();
  readonly #sessions = new Map<ConnectionHandle, PhoneSession>();
  readonly #tagKeys: Uint8Array[];
  #cycle = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  readonly outcomes: PhoneSessionOutcome[] = [];

  private constructor(bleno: Bleno, options: PhonePeripheralOptions) {
    super();
    this.#bleno = bleno;
    this.#options = options;
    this.#tagKeys = options.pairings.map((p) => deriveTagKey(p.pairingKey));
  }

  static async start(options: PhonePeripheralOptions): Promise<PhonePeripheral> {
    if (options.pairings.length === 0) throw new RangeError('pairings must hold at least one pairing');
    for (const pairing of options.pairings) checkPhonePairing(pairing);
    const bleno = createBleno(options.transport);
    try {
      await bleno.waitForPoweredOnAsync(options.powerOnTimeoutMs ?? 5_000);
    } catch (error) {
      bleno.stop();
      throw new BleTransportError('adapter-unavailable', `the Bluetooth adapter did not power on (state ${bleno.state})`, { cause: error });
    }
    const peripheral = new PhonePeripheral(bleno, options);
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

  /** Changes the adapter address (a vendor command; real phones rotate it in the OS). */
  async setAddress(address: string): Promise<void> {
    await this.#bleno.setAddressAsync(address);
    await this.refreshAdvertising();
  }

  /** Resolves with the next session outcome. */
  nextOutcome(timeoutMs = 10_000): Promise<PhoneSessionOutcome> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no phone session ended in time')), timeoutMs);
      this.once('session', (outcome: PhoneSessionOutcome) => {
        clearTimeout(timer);
        resolve(outcome);
      });
    });
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#timer);
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
      onWriteRequest: (handle: ConnectionHandle, data: Buffer, _offset: number, _withoutResponse: boolean, callback: (result: number) => void) => {
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
    await this.#bleno.setServicesAsync([new PrimaryService({ uuid: SERVICE_UUID, characteristics: [controlPoint, response] })]);
    // The GATT device name must not be the phone's own name (§2); bleno takes it from the host name.
    (this.#bleno as unknown as { _bindings?: { _gatt?: { updateName?: (name: string) => void } } })._bindings?._gatt?.updateName?.(GATT_DEVICE_NAME);
    await this.#advertise();
  }

  #accept(address: string, handle: ConnectionHandle): void {
    const session = new PhoneSession(address, {
      pairings: this.#options.pairings,
      replayCache: this.#replayCache,
      approve: this.#options.approve,
      clock: this.#options.clock ?? Date.now,
      ...(this.#options.random && { random: this.#options.random }),
      ...(this.#options.approvalPromptMs !== undefined && { approvalPromptMs: this.#options.approvalPromptMs }),
      ...(this.#options.helloTimeoutMs !== undefined && { helloTimeoutMs: this.#options.helloTimeoutMs }),
      ...(this.#options.verdictTimeoutMs !== undefined && { verdictTimeoutMs: this.#options.verdictTimeoutMs }),
      disconnect: () => {
        // bleno 0.12.4 takes the handle although its typings say it takes nothing.
        if (this.#sessions.has(handle)) (this.#bleno.disconnect as (handle?: ConnectionHandle) => void).call(this.#bleno, handle);
      },
      onOutcome: (outcome) => {
        this.outcomes.push(outcome);
        this.emit('session', outcome);
      },
    });
    this.#sessions.set(handle, session);
  }

  /** Advertises the tag of the current slot (cycling pairings), then re-arms for the next change. */
  async #advertise(): Promise<void> {
    if (this.#stopped) return;
    const now = (this.#options.clock ?? Date.now)();
    const index = this.#cycle++ % this.#tagKeys.length;
    const tag = rotatingTag(this.#tagKeys[index]!, slotAt(now));
    // bleno reports "advertising started" only from its own idle state; when it is restarting
    // advertising after a disconnect the report never comes, although the controller got the new
    // data and advertises it. So wait for the report a short while, never forever.
    await withTimeout(this.#bleno.startAdvertisingWithEIRDataAsync(Buffer.from(encodeAdvertisingData(tag)), Buffer.alloc(0)), 500, () => new Error('no advertising report')).catch(() => undefined);
    const untilSlot = SLOT_SECONDS * 1000 - (now % (SLOT_SECONDS * 1000)) + 5;
    const wait = this.#tagKeys.length > 1 ? Math.min(this.#options.tagCycleMs ?? 1_000, untilSlot) : untilSlot;
    this.#timer = setTimeout(() => void this.#advertise().catch(() => undefined), wait);
    this.#timer.unref();
  }
}
