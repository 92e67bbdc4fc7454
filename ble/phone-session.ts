/**
 * The phone's side of one connection (docs/ble-protocol.md §5–6): reassembles the control-point
 * writes, runs PhoneHandshake, asks its user, and notifies fragments back. One per connection;
 * independent of bleno (the peripheral wires it to GATT callbacks).
 */
import { HELLO_TIMEOUT_MS, PHONE_APPROVAL_PROMPT_MS, VERDICT_TIMEOUT_MS } from './protocol/constants.js';
import { BleProtocolError, asBleProtocolError, type BleProtocolErrorCode } from './protocol/errors.js';
import { type HelloReplayCache, PhoneHandshake, type Approval, type PhoneStep } from './protocol/handshake-phone.js';
import { encodeError, ErrorCode } from './protocol/message-codec.js';
import type { PhonePairing } from './protocol/pairing-records.js';
import { PeripheralFraming } from './peripheral-framing.js';
import type { RandomSource } from '../protocol/crypto/hashes.js';

export interface ApprovalRequest {
  readonly pairingId: string;
  readonly workstationName: string | undefined;
  readonly address: string;
}

/** The user's answer: true approves, false declines. Timing out is the session's job. */
export type Approver = (request: ApprovalRequest) => Promise<boolean>;

/**
 * k of docs/windows.md §6.4 from the pairing's credential key and a copy's eph (request 0x02,
 * asked only after the user approved); null when it cannot be made. The caller's bytes are wiped here.
 */
export type CopyKeySource = (pairingId: string, copyEph: Uint8Array) => Promise<Uint8Array | null>;

export type PhoneSessionOutcome =
  | {
      readonly ok: true;
      readonly address: string;
      readonly pairingId: string;
      readonly accepted: boolean;
      readonly verdict: number;
    }
  | {
      readonly ok: false;
      readonly address: string;
      readonly code: BleProtocolErrorCode | 'disconnected';
      readonly reason: string;
    };

/** What the peripheral drives for each connection: an unlock session, or a pairing session (§12). */
export interface PeripheralSession {
  /** The workstation enabled notifications: now the MTU is known (maxValueSize = ATT_MTU − 3). */
  subscribed(maxValueSize: number, notify: (fragment: Uint8Array) => void): void;
  /** One control-point write. */
  write(fragment: Uint8Array): void;
  disconnected(): void;
}

export interface PhoneSessionDeps {
  readonly pairings: readonly PhonePairing[];
  readonly replayCache: HelloReplayCache;
  readonly approve: Approver;
  /** Releases for request 0x02; absent: such a request is answered with ERROR 0x07 after approval. */
  readonly copyKey?: CopyKeySource;
  readonly clock: () => number;
  readonly random?: RandomSource;
  readonly approvalPromptMs?: number;
  readonly helloTimeoutMs?: number;
  readonly verdictTimeoutMs?: number;
  /** Ends the connection (after a failure, or once the verdict is in). */
  readonly disconnect: () => void;
  readonly onOutcome: (outcome: PhoneSessionOutcome) => void;
}

export class PhoneSession implements PeripheralSession {
  readonly #deps: PhoneSessionDeps;
  readonly #address: string;
  readonly #handshake: PhoneHandshake;
  readonly #framing = new PeripheralFraming();
  #timer: NodeJS.Timeout | undefined;
  #pairingId = '';
  #finished = false;

  constructor(address: string, deps: PhoneSessionDeps) {
    this.#deps = deps;
    this.#address = address;
    this.#handshake = new PhoneHandshake(deps.pairings, {
      replayCache: deps.replayCache,
      ...(deps.random && { random: deps.random }),
    });
    this.#arm(deps.helloTimeoutMs ?? HELLO_TIMEOUT_MS);
  }

  /** The workstation enabled notifications: now the MTU is known (maxValueSize = ATT_MTU − 3). */
  subscribed(maxValueSize: number, notify: (fragment: Uint8Array) => void): void {
    this.#framing.subscribed(maxValueSize, notify);
  }

  /** One control-point write. */
  write(fragment: Uint8Array): void {
    if (this.#finished) return;
    const message = this.#framing.receive(fragment, (error, reply) => this.#fail(error, reply));
    if (message) {
      this.#step(this.#handshake.receive(message, this.#deps.clock()));
      return;
    }
    const msToDeadline = this.#framing.msToDeadline();
    if (msToDeadline !== null) this.#arm(msToDeadline + 1, 'fragment');
  }

  disconnected(): void {
    if (this.#finished) return;
    this.#finish({
      ok: false,
      address: this.#address,
      code: 'disconnected',
      reason: `the workstation disconnected in state ${this.#handshake.state}`,
    });
  }

  #step(step: PhoneStep): void {
    if (this.#finished) return;
    switch (step.kind) {
      case 'approve':
        this.#pairingId = step.pairing.id;
        clearTimeout(this.#timer);
        void this.#ask(step.pairing, step.copyEph);
        return;
      case 'send':
        this.#send(step.message);
        this.#arm(this.#deps.verdictTimeoutMs ?? VERDICT_TIMEOUT_MS);
        return;
      case 'done':
        this.#finish({
          ok: true,
          address: this.#address,
          pairingId: this.#pairingId,
          accepted: step.accepted,
          verdict: step.result,
        });
        this.#deps.disconnect();
        return;
      case 'failed':
        this.#fail(step.error, step.message);
    }
  }

  async #ask(pairing: PhonePairing, copyEph: Uint8Array | null): Promise<void> {
    const promptMs = this.#deps.approvalPromptMs ?? PHONE_APPROVAL_PROMPT_MS;
    let timer: NodeJS.Timeout | undefined;
    const answer = await Promise.race<Approval>([
      this.#deps
        .approve({ pairingId: pairing.id, workstationName: pairing.workstationName, address: this.#address })
        .then((approved): Approval => (approved ? 'approved' : 'declined'))
        .catch((): Approval => 'declined'),
      new Promise<Approval>((resolve) => (timer = setTimeout(() => resolve('timed-out'), promptMs))),
    ]);
    clearTimeout(timer);
    if (this.#finished) return;
    // Only once the user approved is the copy key made (docs/windows.md §6.5).
    const copyKey =
      answer === 'approved' && copyEph !== null
        ? await (this.#deps.copyKey?.(pairing.id, copyEph) ?? Promise.resolve(null)).catch(() => null)
        : null;
    if (this.#finished) {
      copyKey?.fill(0);
      return;
    }
    const reply = this.#handshake.approval(answer, copyKey);
    copyKey?.fill(0);
    if (this.#handshake.state === 'failed') {
      this.#fail(
        new BleProtocolError('unsupported-request', 'this phone cannot release a copy key for that pairing'),
        reply,
      );
      return;
    }
    this.#send(reply);
    if (answer === 'approved') this.#arm(this.#deps.helloTimeoutMs ?? HELLO_TIMEOUT_MS);
    else {
      this.#finish({
        ok: false,
        address: this.#address,
        code: answer === 'declined' ? 'declined' : 'approval-timeout',
        reason: `the user ${answer === 'declined' ? 'declined' : 'did not answer'}`,
      });
    }
  }

  #send(message: Uint8Array): void {
    this.#framing.send(message);
  }

  #arm(ms: number, what: 'step' | 'fragment' = 'step'): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(
      () => {
        if (what === 'fragment') {
          try {
            this.#framing.checkTimeout();
          } catch (error) {
            this.#fail(error, encodeError(ErrorCode.timeout));
          }
          return;
        }
        this.#step(this.#handshake.timeout());
      },
      Math.max(0, ms),
    );
  }

  #fail(error: unknown, message: Uint8Array | null): void {
    if (this.#finished) return;
    if (message) this.#send(message);
    const failure = asBleProtocolError(error, 'the session');
    this.#finish({ ok: false, address: this.#address, code: failure.code, reason: failure.message });
    // Give the ERROR a moment to leave before the link goes.
    setTimeout(() => this.#deps.disconnect(), 50).unref();
  }

  #finish(outcome: PhoneSessionOutcome): void {
    this.#finished = true;
    clearTimeout(this.#timer);
    this.#deps.onOutcome(outcome);
  }
}
