/**
 * The workstation (initiator) side of the unlock handshake, as a pure state machine
 * (docs/ble-protocol.md §5.4 "WorkstationHandshake"). The caller feeds whole messages and clock
 * readings; the machine says what to send. The one decision is `conclude()`.
 */
import { concatBytes, wipe } from '../../protocol/bytes.js';
import { CHALLENGE_BYTES, DEFAULT_MIN_RSSI, DEFAULT_PROOF_DEADLINE_MS, KEY_BYTES, TAG_BYTES } from './constants.js';
import { SIGNATURE_BYTES } from './constants.js';
import { aeadOpen, aeadSeal, ed25519Sign, ed25519Verify, x25519PublicKey } from '../../protocol/crypto/node-crypto.js';
import { BleProtocolError, type BleProtocolErrorCode } from './errors.js';
import { decodeMessage, encodeError, ErrorCode, header, READY_AAD_BYTES, ReadyStatus } from './message-codec.js';
import { REQUEST_UNLOCK, REQUEST_UNLOCK_AND_RELEASE, VerdictResult, type DecodedMessage } from './message-codec.js';
import { checkWorkstationPairing, type WorkstationPairing } from './pairing-records.js';
import { deriveSessionKeys, helloSignedPayload, proofSignedPayload, wipeSessionKeys } from './session.js';
import type { SessionKeys } from './session.js';
import { deriveSessionSalt } from './tag.js';
import { type RandomSource, systemRandom } from '../../protocol/crypto/hashes.js';

export type WorkstationState = 'start' | 'hello-sent' | 'challenge-sent' | 'proof-verified' | 'done' | 'failed';

export interface WorkstationHandshakeOptions {
  readonly random?: RandomSource;
  /** Relay bound: PROOF must complete within this many ms of CHALLENGE (§7). */
  readonly proofDeadlineMs?: number;
  /** Lowest acceptable connection RSSI in dBm; null turns the check off (§7). */
  readonly minRssi?: number | null;
  /**
   * Request 0x02 (docs/windows.md §6.5): the eph of this phone's copy of the Windows password;
   * the phone then releases the copy key k inside PROOF. Absent: a plain unlock (0x01).
   */
  readonly copyEph?: Uint8Array;
}

export type WorkstationStep =
  | { readonly kind: 'send'; readonly message: Uint8Array }
  | { readonly kind: 'proof-verified' }
  | { readonly kind: 'failed'; readonly error: BleProtocolError; readonly message: Uint8Array | null };

export type WorkstationDecision =
  | {
      readonly ok: true;
      readonly proofMs: number;
      readonly rssi: number | null;
      /** Request 0x02 only: the copy key the phone released (the caller opens its copy, then wipes it). */
      readonly copyKey?: Uint8Array;
    }
  | { readonly ok: false; readonly code: BleProtocolErrorCode; readonly reason: string };

const REFUSAL: Partial<Record<BleProtocolErrorCode, number>> = {
  'bad-signature': VerdictResult.badProof,
  'decrypt-failed': VerdictResult.badProof,
  'reply-too-late': VerdictResult.tooLate,
  'signal-too-weak': VerdictResult.tooWeak,
};

export class WorkstationHandshake {
  readonly #pairing: WorkstationPairing;
  readonly #tag: Uint8Array;
  readonly #random: RandomSource;
  readonly #proofDeadlineMs: number;
  readonly #minRssi: number | null;
  readonly #copyEph: Uint8Array | null;
  #copyKey: Uint8Array | null = null;
  #state: WorkstationState = 'start';
  #ephemeralPrivate: Uint8Array | null = null;
  #hello: Uint8Array | null = null;
  #ready: Uint8Array | null = null;
  #challenge: Uint8Array | null = null;
  #challengeMessage: Uint8Array | null = null;
  #challengeSentAt = 0;
  #proofMs = 0;
  #keys: SessionKeys | null = null;

  constructor(pairing: WorkstationPairing, tag: Uint8Array, options: WorkstationHandshakeOptions = {}) {
    checkWorkstationPairing(pairing);
    if (tag.length !== TAG_BYTES) throw new RangeError(`tag must be ${TAG_BYTES} bytes (got ${tag.length})`);
    this.#pairing = pairing;
    this.#tag = tag.slice();
    this.#random = options.random ?? systemRandom;
    this.#proofDeadlineMs = options.proofDeadlineMs ?? DEFAULT_PROOF_DEADLINE_MS;
    this.#minRssi = options.minRssi === undefined ? DEFAULT_MIN_RSSI : options.minRssi;
    if (!(this.#proofDeadlineMs > 0))
      throw new RangeError(`proofDeadlineMs must be positive (got ${this.#proofDeadlineMs})`);
    if (options.copyEph !== undefined && options.copyEph.length !== KEY_BYTES)
      throw new RangeError(`copyEph must be ${KEY_BYTES} bytes (got ${options.copyEph.length})`);
    this.#copyEph = options.copyEph?.slice() ?? null;
  }

  get state(): WorkstationState {
    return this.#state;
  }

  /** HELLO: request ‖ tag ‖ ephW [‖ eph], signed by IKw (§5.1). */
  hello(): Uint8Array {
    this.#expect('start');
    this.#ephemeralPrivate = this.#random(KEY_BYTES);
    const prefix = concatBytes(
      header('hello'),
      Uint8Array.of(this.#copyEph ? REQUEST_UNLOCK_AND_RELEASE : REQUEST_UNLOCK),
      this.#tag,
      x25519PublicKey(this.#ephemeralPrivate),
      this.#copyEph ?? new Uint8Array(0),
    );
    const { workstationIdentity, phonePublicKey } = this.#pairing;
    const signature = ed25519Sign(
      workstationIdentity.privateKey,
      helloSignedPayload(workstationIdentity.publicKey, phonePublicKey, prefix),
    );
    this.#hello = concatBytes(prefix, signature);
    this.#state = 'hello-sent';
    return this.#hello;
  }

  /** Feeds one reassembled message from the phone. */
  receive(bytes: Uint8Array, nowMs: number): WorkstationStep {
    try {
      if (this.#state !== 'hello-sent' && this.#state !== 'challenge-sent') {
        throw new BleProtocolError('unexpected-message', `a message arrived in state ${this.#state}`);
      }
      const message = decodeMessage(bytes);
      if (message.type === 'error')
        throw new BleProtocolError('peer-error', `the phone ended the session (error 0x${message.code.toString(16)})`, {
          peerCode: message.code,
        });
      return this.#state === 'hello-sent' ? this.#onReady(message, nowMs) : this.#onProof(message, nowMs);
    } catch (error) {
      return this.#failed(error);
    }
  }

  /** The time the last CHALLENGE fragment was handed to the adapter: the relay clock starts here. */
  challengeSent(nowMs: number): void {
    if (this.#state === 'challenge-sent') this.#challengeSentAt = nowMs;
  }

  /** The step's timer fired before the phone answered. */
  timeout(): WorkstationStep {
    const code: BleProtocolErrorCode =
      this.#state === 'hello-sent'
        ? 'approval-timeout'
        : this.#state === 'challenge-sent'
          ? 'reply-too-late'
          : 'step-timeout';
    const waiting = this.#state === 'hello-sent';
    const step = this.#failed(new BleProtocolError(code, `no answer from the phone in state ${this.#state}`));
    // Tell the phone to drop its approval prompt: nothing will read its answer any more.
    return waiting && step.kind === 'failed' ? { ...step, message: encodeError(ErrorCode.timeout) } : step;
  }

  /** The one decision (§7): a verified proof and, unless turned off, a strong enough signal. */
  conclude(rssi: number | null): { readonly decision: WorkstationDecision; readonly message: Uint8Array } {
    this.#expect('proof-verified');
    if (this.#minRssi !== null && (rssi === null || rssi < this.#minRssi)) {
      const reason = `the phone's signal (${rssi ?? 'unknown'} dBm) is below ${this.#minRssi} dBm`;
      const message = this.#verdict(VerdictResult.tooWeak);
      this.#state = 'failed';
      this.#cleanup();
      return { decision: { ok: false, code: 'signal-too-weak', reason }, message };
    }
    const message = this.#verdict(VerdictResult.accepted);
    this.#state = 'done';
    const copyKey = this.#copyKey;
    this.#copyKey = null;
    this.#cleanup();
    return { decision: { ok: true, proofMs: this.#proofMs, rssi, ...(copyKey ? { copyKey } : {}) }, message };
  }

  #onReady(message: DecodedMessage, nowMs: number): WorkstationStep {
    if (message.type !== 'ready')
      throw new BleProtocolError('unexpected-message', `${message.type.toUpperCase()} where READY was expected`);
    const salt = deriveSessionSalt(this.#pairing.pairingKey);
    this.#keys = deriveSessionKeys(this.#ephemeralPrivate!, message.ephemeral, salt, this.#hello!, message.ephemeral);
    wipe(this.#ephemeralPrivate, salt);
    this.#ephemeralPrivate = null;
    const status = aeadOpen(this.#keys.p2w, 0, message.bytes.subarray(0, READY_AAD_BYTES), message.sealed);
    if (status === null || status.length !== 1)
      throw new BleProtocolError('decrypt-failed', 'READY does not open under the session key');
    if (status[0] === ReadyStatus.declined)
      throw new BleProtocolError('declined', 'the phone user declined the unlock');
    if (status[0] !== ReadyStatus.approved)
      throw new BleProtocolError('approval-timeout', 'the phone user did not answer in time');
    this.#ready = message.bytes;
    this.#challenge = this.#random(CHALLENGE_BYTES);
    this.#challengeMessage = concatBytes(
      header('challenge'),
      aeadSeal(this.#keys.w2p, 0, header('challenge'), this.#challenge),
    );
    this.#state = 'challenge-sent';
    // Until the transport says when the last fragment left (challengeSent), time from now.
    this.#challengeSentAt = nowMs;
    return { kind: 'send', message: this.#challengeMessage };
  }

  #onProof(message: DecodedMessage, nowMs: number): WorkstationStep {
    if (message.type !== 'proof')
      throw new BleProtocolError('unexpected-message', `${message.type.toUpperCase()} where PROOF was expected`);
    this.#proofMs = nowMs - this.#challengeSentAt;
    if (this.#proofMs > this.#proofDeadlineMs) {
      throw new BleProtocolError(
        'reply-too-late',
        `PROOF came ${this.#proofMs} ms after CHALLENGE, over the bound of ${this.#proofDeadlineMs} ms`,
      );
    }
    const opened = aeadOpen(this.#keys!.p2w, 1, header('proof'), message.sealed);
    if (opened === null) throw new BleProtocolError('decrypt-failed', 'PROOF does not open under the session key');
    // A release's PROOF carries k after the signature; a plain unlock's carries nothing more.
    const expected = SIGNATURE_BYTES + (this.#copyEph ? KEY_BYTES : 0);
    if (opened.length !== expected) {
      wipe(opened);
      throw new BleProtocolError(
        'message-malformed',
        this.#copyEph ? 'PROOF carries no copy key for request 0x02' : 'PROOF carries more than the signature',
      );
    }
    const signature = opened.subarray(0, SIGNATURE_BYTES);
    const { workstationIdentity, phonePublicKey } = this.#pairing;
    const signed = proofSignedPayload(
      phonePublicKey,
      workstationIdentity.publicKey,
      this.#hello!,
      this.#ready!,
      this.#challengeMessage!,
      this.#challenge!,
    );
    if (!ed25519Verify(phonePublicKey, signed, signature)) {
      wipe(opened);
      throw new BleProtocolError('bad-signature', "the phone's signature over the transcript does not verify");
    }
    if (this.#copyEph) this.#copyKey = opened.slice(SIGNATURE_BYTES);
    wipe(opened);
    this.#state = 'proof-verified';
    return { kind: 'proof-verified' };
  }

  #verdict(result: number): Uint8Array {
    return concatBytes(header('verdict'), aeadSeal(this.#keys!.w2p, 1, header('verdict'), Uint8Array.of(result)));
  }

  #failed(error: unknown): WorkstationStep {
    const failure =
      error instanceof BleProtocolError
        ? error
        : new BleProtocolError('message-malformed', 'internal fault while handling a message', { cause: error });
    let message: Uint8Array | null = null;
    if (this.#state !== 'failed' && this.#state !== 'done') {
      if (this.#keys && this.#state !== 'hello-sent')
        message = this.#verdict(REFUSAL[failure.code] ?? VerdictResult.other);
      else if (failure.code !== 'peer-error' && failure.code !== 'declined' && failure.code !== 'approval-timeout')
        message = encodeError(ErrorCode.badMessage);
    }
    this.#state = 'failed';
    this.#cleanup();
    return { kind: 'failed', error: failure, message };
  }

  #expect(state: WorkstationState): void {
    if (this.#state !== state)
      throw new BleProtocolError(
        'unexpected-message',
        `this step needs state ${state}, the handshake is in ${this.#state}`,
      );
  }

  #cleanup(): void {
    wipe(this.#ephemeralPrivate, this.#challenge, this.#copyKey);
    this.#copyKey = null;
    wipeSessionKeys(this.#keys);
    this.#ephemeralPrivate = null;
  }
}
