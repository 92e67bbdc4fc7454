/**
 * The phone (responder) side of the unlock handshake, as a pure state machine
 * (docs/ble-protocol.md §5.4 "PhoneHandshake"). One instance per connection; the replay cache
 * is shared by all of them.
 */
import { concatBytes, toHex, wipe } from '../../protocol/bytes.js';
import { KEY_BYTES } from './constants.js';
import { aeadOpen, aeadSeal, ed25519Sign, ed25519Verify, x25519PublicKey } from '../../protocol/crypto/node-crypto.js';
import { BleProtocolError } from './errors.js';
import { decodeMessage, encodeError, ErrorCode, header, ReadyStatus } from './message-codec.js';
import { REQUEST_UNLOCK, REQUEST_UNLOCK_AND_RELEASE, VerdictResult, type DecodedMessage } from './message-codec.js';
import { checkPhonePairing, type PhonePairing } from './pairing-records.js';
import { deriveSessionKeys, helloSignedPayload, proofSignedPayload, wipeSessionKeys } from './session.js';
import type { SessionKeys } from './session.js';
import { deriveSessionSalt, deriveTagKey, rotatingTag, slotAt } from './tag.js';
import { equalBytes, type RandomSource, systemRandom } from '../../protocol/crypto/hashes.js';

export type PhoneState = 'listening' | 'awaiting-approval' | 'ready-sent' | 'proof-sent' | 'done' | 'failed';
export type Approval = 'approved' | 'declined' | 'timed-out';

export type PhoneStep =
  /** Ask the user; with `copyEph` (request 0x02) compute k from the pairing's credential key for `approval`. */
  | { readonly kind: 'approve'; readonly pairing: PhonePairing; readonly copyEph: Uint8Array | null }
  | { readonly kind: 'send'; readonly message: Uint8Array }
  | { readonly kind: 'done'; readonly accepted: boolean; readonly result: number }
  | { readonly kind: 'failed'; readonly error: BleProtocolError; readonly message: Uint8Array | null };

/**
 * Remembers the ephemeral keys of HELLOs accepted in the current and previous slot, so a HELLO
 * replayed while its tag is still valid cannot raise a second approval prompt (§5.3).
 */
export class HelloReplayCache {
  readonly #seen = new Map<string, number>();

  /** True the first time this key is seen; false for a replay. */
  remember(ephemeral: Uint8Array, slot: number): boolean {
    for (const [key, seenSlot] of this.#seen) if (seenSlot < slot - 1) this.#seen.delete(key);
    const key = toHex(ephemeral);
    if (this.#seen.has(key)) return false;
    this.#seen.set(key, slot);
    return true;
  }
}

export interface PhoneHandshakeOptions {
  readonly replayCache: HelloReplayCache;
  readonly random?: RandomSource;
}

export class PhoneHandshake {
  readonly #pairings: readonly PhonePairing[];
  readonly #replayCache: HelloReplayCache;
  readonly #random: RandomSource;
  #state: PhoneState = 'listening';
  #pairing: PhonePairing | null = null;
  #hello: DecodedMessage & { type: 'hello' } = null!;
  #ready: Uint8Array | null = null;
  #keys: SessionKeys | null = null;
  /** Request 0x02, approved: the copy key k that PROOF carries, wiped once sent. */
  #copyKey: Uint8Array | null = null;

  constructor(pairings: readonly PhonePairing[], options: PhoneHandshakeOptions) {
    for (const pairing of pairings) checkPhonePairing(pairing);
    this.#pairings = pairings;
    this.#replayCache = options.replayCache;
    this.#random = options.random ?? systemRandom;
  }

  get state(): PhoneState {
    return this.#state;
  }

  /** Feeds one reassembled message from the workstation. */
  receive(bytes: Uint8Array, nowMs: number): PhoneStep {
    try {
      const message = decodeMessage(bytes);
      if (message.type === 'error')
        throw new BleProtocolError(
          'peer-error',
          `the workstation ended the session (error 0x${message.code.toString(16)})`,
          { peerCode: message.code },
        );
      switch (this.#state) {
        case 'listening':
          return this.#onHello(message, nowMs);
        case 'ready-sent':
          return this.#onChallenge(message);
        case 'proof-sent':
          return this.#onVerdict(message);
        default:
          throw new BleProtocolError(
            'unexpected-message',
            `${message.type.toUpperCase()} arrived in state ${this.#state}`,
          );
      }
    } catch (error) {
      return this.#failed(error);
    }
  }

  /**
   * The user's answer: READY carries it, sealed under fresh session keys (§5.1). For request 0x02
   * an approval needs `copyKey` (k of docs/windows.md §6.4, 32 bytes, copied here and wiped after
   * PROOF); without one the phone answers ERROR 0x07 instead and the session ends.
   */
  approval(answer: Approval, copyKey: Uint8Array | null = null): Uint8Array {
    if (this.#state !== 'awaiting-approval')
      throw new BleProtocolError('unexpected-message', `no approval is pending (state ${this.#state})`);
    if (answer === 'approved' && this.#hello.copyEph !== null) {
      if (copyKey === null || copyKey.length !== KEY_BYTES) {
        this.#state = 'failed';
        return encodeError(ErrorCode.unsupportedRequest);
      }
      this.#copyKey = copyKey.slice();
    }
    const ephemeralPrivate = this.#random(KEY_BYTES);
    const ephemeral = x25519PublicKey(ephemeralPrivate);
    const salt = deriveSessionSalt(this.#pairing!.pairingKey);
    try {
      this.#keys = deriveSessionKeys(ephemeralPrivate, this.#hello.ephemeral, salt, this.#hello.bytes, ephemeral);
    } finally {
      wipe(ephemeralPrivate, salt);
    }
    const status =
      answer === 'approved'
        ? ReadyStatus.approved
        : answer === 'declined'
          ? ReadyStatus.declined
          : ReadyStatus.timedOut;
    const aad = concatBytes(header('ready'), ephemeral);
    this.#ready = concatBytes(aad, aeadSeal(this.#keys.p2w, 0, aad, Uint8Array.of(status)));
    if (answer === 'approved') this.#state = 'ready-sent';
    else {
      this.#state = 'done';
      wipeSessionKeys(this.#keys);
    }
    return this.#ready;
  }

  /** The step's timer fired (HELLO or VERDICT did not come). */
  timeout(): PhoneStep {
    return this.#failed(new BleProtocolError('step-timeout', `the workstation went quiet in state ${this.#state}`));
  }

  #onHello(message: DecodedMessage, nowMs: number): PhoneStep {
    if (message.type !== 'hello')
      throw new BleProtocolError('unexpected-message', `${message.type.toUpperCase()} where HELLO was expected`);
    if (message.request !== REQUEST_UNLOCK && message.request !== REQUEST_UNLOCK_AND_RELEASE)
      throw new BleProtocolError(
        'unsupported-request',
        `request kind 0x${message.request.toString(16)} is not supported`,
      );
    const slot = slotAt(nowMs);
    // Only a tag this phone advertised: its current or previous slot (§2).
    const pairing = this.#pairings.find((candidate) => {
      const tagKey = deriveTagKey(candidate.pairingKey);
      const match =
        equalBytes(rotatingTag(tagKey, slot), message.tag) ||
        (slot > 0 && equalBytes(rotatingTag(tagKey, slot - 1), message.tag));
      wipe(tagKey);
      return match;
    });
    if (!pairing)
      throw new BleProtocolError(
        'unknown-tag',
        'HELLO names a tag this phone did not advertise (not paired, or too old)',
      );
    const signed = helloSignedPayload(pairing.workstationPublicKey, pairing.phoneIdentity.publicKey, message.signed);
    if (!ed25519Verify(pairing.workstationPublicKey, signed, message.signature))
      throw new BleProtocolError('bad-signature', "HELLO is not signed by the paired workstation's key");
    if (!this.#replayCache.remember(message.ephemeral, slot))
      throw new BleProtocolError('replayed-hello', 'this HELLO was already answered');
    // A pairing without a credential key holds no copy to release (docs/windows.md §6.5).
    if (message.copyEph !== null && pairing.credentialKey === undefined)
      throw new BleProtocolError('unsupported-request', 'this pairing has no credential key to release a copy with');
    this.#pairing = pairing;
    this.#hello = message;
    this.#state = 'awaiting-approval';
    return { kind: 'approve', pairing, copyEph: message.copyEph };
  }

  #onChallenge(message: DecodedMessage): PhoneStep {
    if (message.type !== 'challenge')
      throw new BleProtocolError('unexpected-message', `${message.type.toUpperCase()} where CHALLENGE was expected`);
    const challenge = aeadOpen(this.#keys!.w2p, 0, header('challenge'), message.sealed);
    if (challenge === null)
      throw new BleProtocolError('decrypt-failed', 'CHALLENGE does not open under the session key');
    const { phoneIdentity, workstationPublicKey } = this.#pairing!;
    const signed = proofSignedPayload(
      phoneIdentity.publicKey,
      workstationPublicKey,
      this.#hello.bytes,
      this.#ready!,
      message.bytes,
      challenge,
    );
    const signature = ed25519Sign(phoneIdentity.privateKey, signed);
    const plaintext = concatBytes(signature, this.#copyKey ?? new Uint8Array(0));
    const proof = concatBytes(header('proof'), aeadSeal(this.#keys!.p2w, 1, header('proof'), plaintext));
    wipe(plaintext, this.#copyKey);
    this.#copyKey = null;
    this.#state = 'proof-sent';
    return { kind: 'send', message: proof };
  }

  #onVerdict(message: DecodedMessage): PhoneStep {
    if (message.type !== 'verdict')
      throw new BleProtocolError('unexpected-message', `${message.type.toUpperCase()} where VERDICT was expected`);
    const result = aeadOpen(this.#keys!.w2p, 1, header('verdict'), message.sealed);
    if (result === null || result.length !== 1)
      throw new BleProtocolError('decrypt-failed', 'VERDICT does not open under the session key');
    this.#state = 'done';
    wipeSessionKeys(this.#keys);
    return { kind: 'done', accepted: result[0] === VerdictResult.accepted, result: result[0]! };
  }

  #failed(error: unknown): PhoneStep {
    const failure =
      error instanceof BleProtocolError
        ? error
        : new BleProtocolError('message-malformed', 'internal fault while handling a message', { cause: error });
    this.#state = 'failed';
    wipeSessionKeys(this.#keys);
    wipe(this.#copyKey);
    this.#copyKey = null;
    const code = ERROR_FOR[failure.code] ?? ErrorCode.badMessage;
    return { kind: 'failed', error: failure, message: failure.code === 'peer-error' ? null : encodeError(code) };
  }
}

const ERROR_FOR: Partial<Record<BleProtocolError['code'], number>> = {
  'unknown-tag': ErrorCode.unknownTag,
  'bad-signature': ErrorCode.badHello,
  'replayed-hello': ErrorCode.replayedHello,
  'unsupported-request': ErrorCode.unsupportedRequest,
  'step-timeout': ErrorCode.timeout,
};
