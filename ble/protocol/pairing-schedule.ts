/**
 * The key schedule, MACs, signed payloads and name fields of pairing over BLE
 * (docs/ble-protocol.md §12.2), shared by both roles so they cannot drift apart.
 */
import { concatBytes, decodeUtf8Strict, utf8, wipe } from '../../protocol/bytes.js';
import { NAME_BYTES, PAIRING_KEY_BYTES, PROTOCOL_LABEL } from './constants.js';
import { deriveDirectionalKeys } from './session.js';
import { hkdfSha256, hmacSha256, sha256 } from '../../protocol/crypto/hashes.js';

const KEYS_LABEL = utf8(`${PROTOCOL_LABEL} pair keys`);
const PHONE_LABEL = utf8(`${PROTOCOL_LABEL} pair phone`);
const WORKSTATION_LABEL = utf8(`${PROTOCOL_LABEL} pair workstation`);
const PAIRING_KEY_LABEL = utf8(`${PROTOCOL_LABEL} pairing key`);

export interface PairSessionKeys {
  /** X25519 of the two ephemeral keys: kept until the pairing key is derived, then wiped. */
  readonly shared: Uint8Array;
  readonly w2p: Uint8Array;
  readonly p2w: Uint8Array;
}

/** ss = X25519(…); kW2P ‖ kP2W = HKDF(ss, pairSalt, "latchkey-ble/1 pair keys" ‖ SHA-256(PAIR-HELLO ‖ ephP), 64). */
export function derivePairSessionKeys(
  ephemeralPrivate: Uint8Array,
  peerEphemeral: Uint8Array,
  pairSalt: Uint8Array,
  pairHello: Uint8Array,
  phoneEphemeral: Uint8Array,
): PairSessionKeys {
  return deriveDirectionalKeys(ephemeralPrivate, peerEphemeral, pairSalt, KEYS_LABEL, pairHello, phoneEphemeral);
}

export function wipePairSessionKeys(keys: PairSessionKeys | null): void {
  if (keys) wipe(keys.shared, keys.w2p, keys.p2w);
}

/** What macP and sigP cover: label ‖ SHA-256(PAIR-HELLO ‖ ephP) ‖ IKp.pub ‖ phone name [‖ CK.pub] (§12.2). */
export function phonePairPayload(
  th1: Uint8Array,
  phonePublicKey: Uint8Array,
  phoneName: Uint8Array,
  credentialKey: Uint8Array | null = null,
): Uint8Array {
  return concatBytes(PHONE_LABEL, th1, phonePublicKey, phoneName, credentialKey ?? new Uint8Array(0));
}

/** What macW and sigW cover: label ‖ SHA-256(PAIR-HELLO ‖ PAIR-READY) ‖ IKw.pub ‖ IKp.pub ‖ workstation name. */
export function workstationPairPayload(
  th2: Uint8Array,
  workstationPublicKey: Uint8Array,
  phonePublicKey: Uint8Array,
  workstationName: Uint8Array,
): Uint8Array {
  return concatBytes(WORKSTATION_LABEL, th2, workstationPublicKey, phonePublicKey, workstationName);
}

export function pairMac(macKey: Uint8Array, payload: Uint8Array): Uint8Array {
  return hmacSha256(macKey, payload);
}

/**
 * PK = HKDF(IKM = ss, salt = codeKey, info = "latchkey-ble/1 pairing key" ‖ SHA-256(PAIR-HELLO ‖
 * PAIR-READY ‖ PAIR-CONFIRM), 32): the pairing key both sides keep (§1). It needs the ephemeral
 * secret, so someone who recorded the pairing and later learnt the code still cannot derive it.
 */
export function derivePairingKeyFromExchange(
  shared: Uint8Array,
  codeKey: Uint8Array,
  pairHello: Uint8Array,
  pairReady: Uint8Array,
  pairConfirm: Uint8Array,
): Uint8Array {
  return hkdfSha256(
    shared,
    codeKey,
    concatBytes(PAIRING_KEY_LABEL, sha256(pairHello, pairReady, pairConfirm)),
    PAIRING_KEY_BYTES,
  );
}

/** A name as a fixed 64-byte field: UTF-8 cut at a character boundary, zero-padded. */
export function encodeNameField(name: string): Uint8Array {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what this pattern is for
  const clean = name.replace(/[\u0000-\u001f\u007f]/g, ' ');
  const out = new Uint8Array(NAME_BYTES);
  let used = 0;
  for (const char of clean) {
    const bytes = utf8(char);
    if (used + bytes.length > NAME_BYTES) break;
    out.set(bytes, used);
    used += bytes.length;
  }
  return out;
}

/** The name in a 64-byte field; null when it is not clean text (then the receiver refuses the message). */
export function decodeNameField(field: Uint8Array): string | null {
  if (field.length !== NAME_BYTES) return null;
  let end = field.length;
  while (end > 0 && field[end - 1] === 0) end--;
  const text = decodeUtf8Strict(field.subarray(0, end));
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what this pattern is for
  if (text === null || /[\u0000-\u001f\u007f]/.test(text)) return null;
  return text;
}
