/**
 * What each side holds after pairing (docs/ble-protocol.md §1). Pairing itself is a later step;
 * the BLE layer only reads these records.
 */
import { KEY_BYTES, PAIRING_KEY_BYTES } from './constants.js';
import { ed25519PublicKey } from '../../protocol/crypto/node-crypto.js';

export interface Ed25519Identity {
  /** The 32-byte private seed (RFC 8032 §5.1.5). */
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

/** The workstation's record of one paired phone. */
export interface WorkstationPairing {
  /** Stable local id of this pairing (never sent over the air). */
  readonly id: string;
  readonly pairingKey: Uint8Array;
  readonly workstationIdentity: Ed25519Identity;
  readonly phonePublicKey: Uint8Array;
}

/** The phone's record of one paired workstation. */
export interface PhonePairing {
  readonly id: string;
  readonly pairingKey: Uint8Array;
  readonly phoneIdentity: Ed25519Identity;
  readonly workstationPublicKey: Uint8Array;
  /** Shown in the approval prompt ("Unlock alice on ws-1?"). */
  readonly workstationName?: string;
  /**
   * The public half of this pairing's credential key (docs/windows.md §6.3): a pairing with one
   * answers request 0x02; the private half stays with the caller, which computes k on approval.
   */
  readonly credentialKey?: Uint8Array;
}

export function identityFromSeed(seed: Uint8Array): Ed25519Identity {
  return { privateKey: seed, publicKey: ed25519PublicKey(seed) };
}

function checkBytes(name: string, value: unknown, length: number): void {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array`);
  if (value.length !== length) throw new RangeError(`${name} must be ${length} bytes (got ${value.length})`);
}

export function checkWorkstationPairing(pairing: WorkstationPairing): void {
  checkBytes('pairingKey', pairing.pairingKey, PAIRING_KEY_BYTES);
  checkBytes('workstationIdentity.privateKey', pairing.workstationIdentity.privateKey, KEY_BYTES);
  checkBytes('workstationIdentity.publicKey', pairing.workstationIdentity.publicKey, KEY_BYTES);
  checkBytes('phonePublicKey', pairing.phonePublicKey, KEY_BYTES);
}

export function checkPhonePairing(pairing: PhonePairing): void {
  checkBytes('pairingKey', pairing.pairingKey, PAIRING_KEY_BYTES);
  checkBytes('phoneIdentity.privateKey', pairing.phoneIdentity.privateKey, KEY_BYTES);
  checkBytes('phoneIdentity.publicKey', pairing.phoneIdentity.publicKey, KEY_BYTES);
  checkBytes('workstationPublicKey', pairing.workstationPublicKey, KEY_BYTES);
}
