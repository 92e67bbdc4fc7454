/**
 * Pairing over BLE as two pure state machines (docs/ble-protocol.md §12.3): the workstation
 * (initiator, central) and the phone (responder, peripheral) exchange fresh X25519 keys, then
 * each side's new Ed25519 identity key sealed under keys that need the code, MACed with the
 * code's MAC key and signed by the identity itself. Both end with the same pairing key.
 */
import { concatBytes, wipe } from '../../protocol/bytes.js';
import { KEY_BYTES, NAME_BYTES, SIGNATURE_BYTES, TAG_BYTES } from './constants.js';
import { aeadOpen, aeadSeal, ed25519Sign, ed25519Verify, x25519PublicKey } from '../../protocol/crypto/node-crypto.js';
import { BleProtocolError, type BleProtocolErrorCode } from './errors.js';
import { decodeMessage, encodeError, ErrorCode, header, PairDoneStatus, READY_AAD_BYTES } from './message-codec.js';
import type { DecodedMessage } from './message-codec.js';
import { derivePairKeys, derivePairTagKey } from './pairing-code.js';
import type { Ed25519Identity } from './pairing-records.js';
import { decodeNameField, derivePairingKeyFromExchange, derivePairSessionKeys } from './pairing-schedule.js';
import { encodeNameField, pairMac, phonePairPayload, wipePairSessionKeys } from './pairing-schedule.js';
import { workstationPairPayload, type PairSessionKeys } from './pairing-schedule.js';
import { rotatingTag, slotAt } from './tag.js';
import { equalBytes, type RandomSource, sha256, systemRandom } from '../../protocol/crypto/hashes.js';

const MAC_BYTES = 32;

export interface PairingSetup {
  readonly pairingId: string;
  /** PBKDF2 of the code's secret (pairing-code.ts deriveCodeKey). */
  readonly codeKey: Uint8Array;
  /** This side's new identity for this pairing. */
  readonly identity: Ed25519Identity;
  /** Shown to the other side: "alice on ws-1" (workstation), the phone's name (phone). */
  readonly name: string;
  /** Phone only: the public half of this pairing's credential key, sent in PAIR-READY (docs/windows.md §6.3). */
  readonly credentialKey?: Uint8Array;
  readonly random?: RandomSource;
}

/** What pairing leaves behind: the same `pairingKey` on both sides and the peer's identity key. */
export interface PairedPeer {
  readonly pairingKey: Uint8Array;
  readonly peerPublicKey: Uint8Array;
  readonly peerName: string;
  /** Workstation only: the phone's credential key, when its PAIR-READY carried one. */
  readonly credentialKey?: Uint8Array;
}

export type PairingStep =
  | { readonly kind: 'send'; readonly message: Uint8Array }
  /** Phone only: store `peer`, then call `stored()` for PAIR-DONE. */
  | { readonly kind: 'store'; readonly peer: PairedPeer }
  /** Workstation only: the phone stored the pairing; keep `peer`. */
  | { readonly kind: 'done'; readonly peer: PairedPeer }
  | { readonly kind: 'failed'; readonly error: BleProtocolError; readonly message: Uint8Array | null };

/** Splits and checks the sealed part of PAIR-READY or PAIR-CONFIRM. */
function openIdentity(
  plaintext: Uint8Array | null,
  what: string,
): {
  publicKey: Uint8Array;
  mac: Uint8Array;
  signature: Uint8Array;
  nameField: Uint8Array;
  name: string;
  credentialKey: Uint8Array | null;
} {
  if (plaintext === null)
    throw new BleProtocolError(
      'pairing-mismatch',
      `${what} does not open under the code's keys: the code is wrong, or the message was changed`,
    );
  let offset = 0;
  const take = (n: number) => {
    const part = plaintext.subarray(offset, offset + n);
    offset += n;
    return part;
  };
  const publicKey = take(KEY_BYTES).slice();
  const mac = take(MAC_BYTES).slice();
  const signature = take(SIGNATURE_BYTES).slice();
  const nameField = take(NAME_BYTES).slice();
  const credentialKey = plaintext.length > offset ? take(KEY_BYTES).slice() : null;
  const name = decodeNameField(nameField);
  if (name === null) throw new BleProtocolError('message-malformed', `the name in ${what} is not clean UTF-8 text`);
  return { publicKey, mac, signature, nameField, name, credentialKey };
}

function failure(error: unknown, message: Uint8Array | null): PairingStep {
  const failed =
    error instanceof BleProtocolError
      ? error
      : new BleProtocolError('message-malformed', 'internal fault while handling a pairing message', { cause: error });
  return { kind: 'failed', error: failed, message: failed.code === 'peer-error' ? null : message };
}

function peerError(message: DecodedMessage & { type: 'error' }, who: string): BleProtocolError {
  return new BleProtocolError('peer-error', `the ${who} ended the pairing (error 0x${message.code.toString(16)})`, {
    peerCode: message.code,
  });
}

export type WorkstationPairingState = 'start' | 'hello-sent' | 'confirm-sent' | 'done' | 'failed';

export class WorkstationPairingHandshake {
  readonly #setup: PairingSetup;
  readonly #tag: Uint8Array;
  readonly #keys: { readonly salt: Uint8Array; readonly macKey: Uint8Array };
  #state: WorkstationPairingState = 'start';
  #ephemeralPrivate: Uint8Array | null = null;
  #hello: Uint8Array | null = null;
  #session: PairSessionKeys | null = null;
  #peer: PairedPeer | null = null;

  /** `tag`: the pairing tag the phone advertised (it must be one of this pairing id's). */
  constructor(setup: PairingSetup, tag: Uint8Array) {
    if (tag.length !== TAG_BYTES) throw new RangeError(`tag must be ${TAG_BYTES} bytes (got ${tag.length})`);
    this.#setup = setup;
    this.#tag = tag.slice();
    this.#keys = derivePairKeys(setup.codeKey);
  }

  get state(): WorkstationPairingState {
    return this.#state;
  }

  /** PAIR-HELLO: tag ‖ ephW. */
  hello(): Uint8Array {
    if (this.#state !== 'start')
      throw new BleProtocolError('unexpected-message', `PAIR-HELLO was already sent (state ${this.#state})`);
    this.#ephemeralPrivate = (this.#setup.random ?? systemRandom)(KEY_BYTES);
    this.#hello = concatBytes(header('pairHello'), this.#tag, x25519PublicKey(this.#ephemeralPrivate));
    this.#state = 'hello-sent';
    return this.#hello;
  }

  receive(bytes: Uint8Array): PairingStep {
    try {
      const message = decodeMessage(bytes);
      if (message.type === 'error') throw peerError(message, 'phone');
      if (this.#state === 'hello-sent' && message.type === 'pairReady') return this.#onReady(message);
      if (this.#state === 'confirm-sent' && message.type === 'pairDone') return this.#onDone(message);
      throw new BleProtocolError('unexpected-message', `${message.type} arrived in pairing state ${this.#state}`);
    } catch (error) {
      return this.#fail(error);
    }
  }

  timeout(): PairingStep {
    return this.#fail(new BleProtocolError('step-timeout', `the phone went quiet in pairing state ${this.#state}`));
  }

  #onReady(message: DecodedMessage & { type: 'pairReady' }): PairingStep {
    this.#session = derivePairSessionKeys(
      this.#ephemeralPrivate!,
      message.ephemeral,
      this.#keys.salt,
      this.#hello!,
      message.ephemeral,
    );
    wipe(this.#ephemeralPrivate);
    this.#ephemeralPrivate = null;
    const phone = openIdentity(
      aeadOpen(this.#session.p2w, 0, message.bytes.subarray(0, READY_AAD_BYTES), message.sealed),
      'PAIR-READY',
    );
    const th1 = sha256(this.#hello!, message.ephemeral);
    const phonePayload = phonePairPayload(th1, phone.publicKey, phone.nameField, phone.credentialKey);
    if (!equalBytes(pairMac(this.#keys.macKey, phonePayload), phone.mac))
      throw new BleProtocolError('pairing-mismatch', "the phone's MAC over its key does not verify under the code");
    if (!ed25519Verify(phone.publicKey, phonePayload, phone.signature))
      throw new BleProtocolError('bad-signature', 'the phone does not hold the identity key it offers');
    const { identity, name } = this.#setup;
    const nameField = encodeNameField(name);
    const payload = workstationPairPayload(
      sha256(this.#hello!, message.bytes),
      identity.publicKey,
      phone.publicKey,
      nameField,
    );
    const plaintext = concatBytes(
      identity.publicKey,
      pairMac(this.#keys.macKey, payload),
      ed25519Sign(identity.privateKey, payload),
      nameField,
    );
    const confirm = concatBytes(
      header('pairConfirm'),
      aeadSeal(this.#session.w2p, 0, header('pairConfirm'), plaintext),
    );
    wipe(plaintext);
    const pairingKey = derivePairingKeyFromExchange(
      this.#session.shared,
      this.#setup.codeKey,
      this.#hello!,
      message.bytes,
      confirm,
    );
    this.#peer = {
      pairingKey,
      peerPublicKey: phone.publicKey,
      peerName: phone.name,
      ...(phone.credentialKey ? { credentialKey: phone.credentialKey } : {}),
    };
    this.#state = 'confirm-sent';
    return { kind: 'send', message: confirm };
  }

  #onDone(message: DecodedMessage & { type: 'pairDone' }): PairingStep {
    const status = aeadOpen(this.#session!.p2w, 1, header('pairDone'), message.sealed);
    if (status === null || status.length !== 1)
      throw new BleProtocolError('pairing-mismatch', 'PAIR-DONE does not open under the session key');
    if (status[0] !== PairDoneStatus.stored)
      throw new BleProtocolError('pairing-not-stored', 'the phone could not store the pairing');
    this.#state = 'done';
    wipePairSessionKeys(this.#session);
    return { kind: 'done', peer: this.#peer! };
  }

  #fail(error: unknown): PairingStep {
    const notice = failureNotice(this.#state, error, {
      'pairing-mismatch': ErrorCode.pairingRefused,
      'step-timeout': ErrorCode.timeout,
    });
    this.#state = 'failed';
    wipe(this.#ephemeralPrivate, this.#peer?.pairingKey);
    wipePairSessionKeys(this.#session);
    this.#peer = null;
    return failure(error, notice);
  }
}

/** The ERROR a side answers a failure with (§12.4): its own code for the failures it names, bad-message for the rest, none once it has failed or finished. */
function failureNotice(
  state: string,
  error: unknown,
  codes: Partial<Record<BleProtocolErrorCode, number>>,
): Uint8Array | null {
  if (state === 'failed' || state === 'done') return null;
  const code = error instanceof BleProtocolError ? codes[error.code] : undefined;
  return encodeError(code ?? ErrorCode.badMessage);
}

export type PhonePairingState = 'listening' | 'ready-sent' | 'storing' | 'done' | 'failed';

export class PhonePairingHandshake {
  readonly #setup: PairingSetup;
  readonly #keys: { readonly salt: Uint8Array; readonly macKey: Uint8Array };
  readonly #tagKey: Uint8Array;
  #state: PhonePairingState = 'listening';
  #hello: Uint8Array | null = null;
  #ready: Uint8Array | null = null;
  #session: PairSessionKeys | null = null;

  constructor(setup: PairingSetup) {
    if (setup.credentialKey !== undefined && setup.credentialKey.length !== KEY_BYTES)
      throw new RangeError(`credentialKey must be ${KEY_BYTES} bytes (got ${setup.credentialKey.length})`);
    this.#setup = setup;
    this.#keys = derivePairKeys(setup.codeKey);
    this.#tagKey = derivePairTagKey(setup.pairingId);
  }

  get state(): PhonePairingState {
    return this.#state;
  }

  /** The tag to advertise now (§12.1). */
  tagAt(nowMs: number): Uint8Array {
    return rotatingTag(this.#tagKey, slotAt(nowMs));
  }

  receive(bytes: Uint8Array, nowMs: number): PairingStep {
    try {
      const message = decodeMessage(bytes);
      if (message.type === 'error') throw peerError(message, 'workstation');
      if (this.#state === 'listening' && message.type === 'pairHello') return this.#onHello(message, nowMs);
      if (this.#state === 'ready-sent' && message.type === 'pairConfirm') return this.#onConfirm(message);
      throw new BleProtocolError('unexpected-message', `${message.type} arrived in pairing state ${this.#state}`);
    } catch (error) {
      return this.#fail(error);
    }
  }

  /** The pairing is (or could not be) stored: PAIR-DONE tells the workstation. */
  stored(ok: boolean): Uint8Array {
    if (this.#state !== 'storing')
      throw new BleProtocolError('unexpected-message', `nothing to store (state ${this.#state})`);
    const done = concatBytes(
      header('pairDone'),
      aeadSeal(
        this.#session!.p2w,
        1,
        header('pairDone'),
        Uint8Array.of(ok ? PairDoneStatus.stored : PairDoneStatus.notStored),
      ),
    );
    this.#state = ok ? 'done' : 'failed';
    wipePairSessionKeys(this.#session);
    return done;
  }

  timeout(): PairingStep {
    return this.#fail(
      new BleProtocolError('step-timeout', `the workstation went quiet in pairing state ${this.#state}`),
    );
  }

  #onHello(message: DecodedMessage & { type: 'pairHello' }, nowMs: number): PairingStep {
    const slot = slotAt(nowMs);
    if (
      !equalBytes(rotatingTag(this.#tagKey, slot), message.tag) &&
      !(slot > 0 && equalBytes(rotatingTag(this.#tagKey, slot - 1), message.tag))
    ) {
      throw new BleProtocolError('unknown-tag', 'PAIR-HELLO names a tag this phone did not advertise');
    }
    const ephemeralPrivate = (this.#setup.random ?? systemRandom)(KEY_BYTES);
    const ephemeral = x25519PublicKey(ephemeralPrivate);
    try {
      this.#session = derivePairSessionKeys(
        ephemeralPrivate,
        message.ephemeral,
        this.#keys.salt,
        message.bytes,
        ephemeral,
      );
    } finally {
      wipe(ephemeralPrivate);
    }
    const { identity, name, credentialKey } = this.#setup;
    const nameField = encodeNameField(name);
    const payload = phonePairPayload(sha256(message.bytes, ephemeral), identity.publicKey, nameField, credentialKey);
    const plaintext = concatBytes(
      identity.publicKey,
      pairMac(this.#keys.macKey, payload),
      ed25519Sign(identity.privateKey, payload),
      nameField,
      credentialKey ?? new Uint8Array(0),
    );
    const aad = concatBytes(header('pairReady'), ephemeral);
    this.#ready = concatBytes(aad, aeadSeal(this.#session.p2w, 0, aad, plaintext));
    wipe(plaintext);
    this.#hello = message.bytes.slice();
    this.#state = 'ready-sent';
    return { kind: 'send', message: this.#ready };
  }

  #onConfirm(message: DecodedMessage & { type: 'pairConfirm' }): PairingStep {
    const workstation = openIdentity(
      aeadOpen(this.#session!.w2p, 0, header('pairConfirm'), message.sealed),
      'PAIR-CONFIRM',
    );
    const payload = workstationPairPayload(
      sha256(this.#hello!, this.#ready!),
      workstation.publicKey,
      this.#setup.identity.publicKey,
      workstation.nameField,
    );
    if (!equalBytes(pairMac(this.#keys.macKey, payload), workstation.mac))
      throw new BleProtocolError(
        'pairing-mismatch',
        "the workstation's MAC over its key does not verify under the code",
      );
    if (!ed25519Verify(workstation.publicKey, payload, workstation.signature))
      throw new BleProtocolError('bad-signature', 'the workstation does not hold the identity key it offers');
    const pairingKey = derivePairingKeyFromExchange(
      this.#session!.shared,
      this.#setup.codeKey,
      this.#hello!,
      this.#ready!,
      message.bytes,
    );
    this.#state = 'storing';
    return { kind: 'store', peer: { pairingKey, peerPublicKey: workstation.publicKey, peerName: workstation.name } };
  }

  #fail(error: unknown): PairingStep {
    const notice = failureNotice(this.#state, error, {
      'unknown-tag': ErrorCode.unknownTag,
      'step-timeout': ErrorCode.timeout,
      'pairing-mismatch': ErrorCode.pairingRefused,
    });
    this.#state = 'failed';
    wipePairSessionKeys(this.#session);
    return failure(error, notice);
  }
}
