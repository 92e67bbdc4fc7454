/**
 * The phone's side of one pairing connection (docs/ble-protocol.md §12.3): reassembles the
 * control-point writes, runs PhonePairingHandshake, stores the pairing when the workstation's
 * key checks out, and tells the workstation with PAIR-DONE. Independent of bleno.
 */
import { PAIRING_STEP_TIMEOUT_MS } from './protocol/constants.js';
import { asBleProtocolError, type BleProtocolErrorCode } from './protocol/errors.js';
import type { PairedPeer, PairingStep, PhonePairingHandshake } from './protocol/pairing-handshake.js';
import { PeripheralFraming } from './peripheral-framing.js';
import type { PeripheralSession } from './phone-session.js';

/** How long the phone waits for the workstation to hang up after PAIR-DONE. */
const DONE_LINGER_MS = 2_000;

export type PhonePairingOutcome =
  | { readonly ok: true; readonly address: string; readonly peer: PairedPeer }
  | {
      readonly ok: false;
      readonly address: string;
      readonly code: BleProtocolErrorCode | 'disconnected';
      readonly reason: string;
      readonly peerCode?: number;
    };

export interface PhonePairingSessionDeps {
  readonly handshake: PhonePairingHandshake;
  readonly clock: () => number;
  /** Keeps the new pairing (the vault); resolves true once it is durable. */
  readonly store: (peer: PairedPeer) => Promise<boolean>;
  readonly disconnect: () => void;
  readonly onOutcome: (outcome: PhonePairingOutcome) => void;
  readonly stepTimeoutMs?: number;
}

export class PhonePairingSession implements PeripheralSession {
  readonly #deps: PhonePairingSessionDeps;
  readonly #address: string;
  readonly #framing = new PeripheralFraming();
  #timer: NodeJS.Timeout | undefined;
  #finished = false;
  /** Stored and PAIR-DONE sent: the outcome waits for the workstation to hang up (it got PAIR-DONE). */
  #sentDone: PhonePairingOutcome | null = null;

  constructor(address: string, deps: PhonePairingSessionDeps) {
    this.#deps = deps;
    this.#address = address;
    this.#arm();
  }

  subscribed(maxValueSize: number, notify: (fragment: Uint8Array) => void): void {
    this.#framing.subscribed(maxValueSize, notify);
  }

  write(fragment: Uint8Array): void {
    if (this.#finished) return;
    const message = this.#framing.receive(fragment, (error, reply) => this.#fail(error, reply));
    if (message) this.#step(this.#deps.handshake.receive(message, this.#deps.clock()));
  }

  disconnected(): void {
    if (this.#finished) return;
    if (this.#sentDone) {
      this.#finish(this.#sentDone);
      return;
    }
    this.#finish({
      ok: false,
      address: this.#address,
      code: 'disconnected',
      reason: `the workstation disconnected in pairing state ${this.#deps.handshake.state}`,
    });
  }

  #step(step: PairingStep): void {
    switch (step.kind) {
      case 'send':
        this.#send(step.message);
        this.#arm();
        return;
      case 'store':
        clearTimeout(this.#timer);
        void this.#store(step.peer);
        return;
      case 'done':
        return; // the workstation's step; never here
      case 'failed':
        this.#fail(step.error, step.message);
    }
  }

  async #store(peer: PairedPeer): Promise<void> {
    const stored = await this.#deps.store(peer).catch(() => false);
    if (this.#finished) return;
    this.#send(this.#deps.handshake.stored(stored));
    this.#sentDone = stored
      ? { ok: true, address: this.#address, peer }
      : {
          ok: false,
          address: this.#address,
          code: 'pairing-not-stored',
          reason: 'the phone could not store the pairing',
        };
    // The workstation hangs up once it has PAIR-DONE, and only then is the outcome reported, so a
    // caller that stops the radio right after cannot cut PAIR-DONE off. If it does not hang up, we do.
    this.#timer = setTimeout(() => {
      if (this.#finished) return;
      this.#finish(this.#sentDone!);
      this.#deps.disconnect();
    }, DONE_LINGER_MS);
  }

  #send(message: Uint8Array): void {
    this.#framing.send(message);
  }

  #arm(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(
      () => this.#step(this.#deps.handshake.timeout()),
      this.#deps.stepTimeoutMs ?? PAIRING_STEP_TIMEOUT_MS,
    );
  }

  #fail(error: unknown, message: Uint8Array | null): void {
    if (this.#finished) return;
    if (message) this.#send(message);
    const failure = asBleProtocolError(error, 'the pairing session');
    this.#finish({
      ok: false,
      address: this.#address,
      code: failure.code,
      reason: failure.message,
      ...(failure.peerCode !== undefined && { peerCode: failure.peerCode }),
    });
    setTimeout(() => this.#deps.disconnect(), 50).unref();
  }

  #finish(outcome: PhonePairingOutcome): void {
    this.#finished = true;
    clearTimeout(this.#timer);
    this.#deps.onOutcome(outcome);
  }
}
