/**
 * The key schedule and signed payloads of latchkey-ble/1 (docs/ble-protocol.md §5.1–5.2),
 * shared by both roles so they cannot drift apart.
 */
import { concatBytes, utf8, wipe } from '../../protocol/bytes.js';
import { KEY_BYTES, PROTOCOL_LABEL } from './constants.js';
import { x25519 } from '../../protocol/crypto/node-crypto.js';
import { BleProtocolError } from './errors.js';
import { hkdfSha256, sha256 } from '../../protocol/crypto/hashes.js';

const HELLO_LABEL = utf8(`${PROTOCOL_LABEL} hello`);
const PROOF_LABEL = utf8(`${PROTOCOL_LABEL} proof`);
const KEYS_LABEL = utf8(`${PROTOCOL_LABEL} keys`);

export interface SessionKeys {
  /** Seals workstation → phone messages (CHALLENGE n=0, VERDICT n=1). */
  readonly w2p: Uint8Array;
  /** Seals phone → workstation messages (READY n=0, PROOF n=1). */
  readonly p2w: Uint8Array;
}

/**
 * ss = X25519(…); kW2P ‖ kP2W = HKDF(ss, salt, label ‖ SHA-256(hello ‖ ephP), 64): the unlock
 * (§5.1) and pairing (§12.2) schedules differ only in salt, label and opening message. The caller
 * owns `shared` (and wipes it).
 */
export function deriveDirectionalKeys(
  ephemeralPrivate: Uint8Array,
  peerEphemeral: Uint8Array,
  salt: Uint8Array,
  label: Uint8Array,
  hello: Uint8Array,
  phoneEphemeral: Uint8Array,
): SessionKeys & { readonly shared: Uint8Array } {
  const shared = x25519(ephemeralPrivate, peerEphemeral);
  if (shared === null)
    throw new BleProtocolError('bad-key', 'the peer ephemeral key gives no shared secret (low-order point)');
  const okm = hkdfSha256(shared, salt, concatBytes(label, sha256(hello, phoneEphemeral)), 2 * KEY_BYTES);
  return { shared, w2p: okm.slice(0, KEY_BYTES), p2w: okm.slice(KEY_BYTES) };
}

/** ss = X25519(…); OKM = HKDF(ss, sessionSalt, "latchkey-ble/1 keys" ‖ SHA-256(HELLO ‖ ephP), 64). */
export function deriveSessionKeys(
  ephemeralPrivate: Uint8Array,
  peerEphemeral: Uint8Array,
  sessionSalt: Uint8Array,
  hello: Uint8Array,
  phoneEphemeral: Uint8Array,
): SessionKeys {
  const { shared, w2p, p2w } = deriveDirectionalKeys(
    ephemeralPrivate,
    peerEphemeral,
    sessionSalt,
    KEYS_LABEL,
    hello,
    phoneEphemeral,
  );
  wipe(shared);
  return { w2p, p2w };
}

export function wipeSessionKeys(keys: SessionKeys | null): void {
  if (keys) wipe(keys.w2p, keys.p2w);
}

/** What sigW covers: label ‖ IKw.pub ‖ IKp.pub ‖ HELLO[0..51). */
export function helloSignedPayload(
  workstationPublicKey: Uint8Array,
  phonePublicKey: Uint8Array,
  helloPrefix: Uint8Array,
): Uint8Array {
  return concatBytes(HELLO_LABEL, workstationPublicKey, phonePublicKey, helloPrefix);
}

/** What sigP covers: label ‖ IKp.pub ‖ IKw.pub ‖ SHA-256(HELLO ‖ READY ‖ CHALLENGE) ‖ challenge. */
export function proofSignedPayload(
  phonePublicKey: Uint8Array,
  workstationPublicKey: Uint8Array,
  hello: Uint8Array,
  ready: Uint8Array,
  challengeMessage: Uint8Array,
  challenge: Uint8Array,
): Uint8Array {
  return concatBytes(
    PROOF_LABEL,
    phonePublicKey,
    workstationPublicKey,
    sha256(hello, ready, challengeMessage),
    challenge,
  );
}
