/**
 * Errors of the phone (docs/phone.md "Errors"): one class, stable codes. No message ever holds a
 * seed, a PIN, a passphrase or a key.
 */
import { CodedError } from '../../protocol/coded-error.js';

export type PhoneErrorCode =
  // the vault (phone/vault, phone/cli/vault-file.ts)
  | 'vault-missing'
  | 'vault-exists'
  | 'vault-wrong-passphrase'
  | 'vault-tampered'
  | 'vault-malformed'
  | 'vault-permissions'
  | 'vault-busy'
  | 'weak-passphrase'
  // pairing
  | 'bad-pairing-code'
  | 'pairing-refused'
  | 'pairing-mac-mismatch'
  | 'pairing-timeout'
  // Bluetooth (phone/cli/ble-actions.ts)
  | 'bluetooth-unavailable'
  // finding things
  | 'unknown-workstation'
  | 'ambiguous-workstation'
  | 'unknown-request'
  | 'request-expired'
  | 'credential-request-forged'
  // the Control Center
  | 'unreachable'
  | 'refused'
  | 'bad-response';

export class PhoneError extends CodedError<PhoneErrorCode> {}
