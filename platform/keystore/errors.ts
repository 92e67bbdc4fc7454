/** Errors of the keystore (docs/keystore.md, table of codes). Messages never contain secret bytes. */
import { CodedError } from '../../protocol/coded-error.js';

export type KeystoreErrorCode =
  | 'keystore-missing'
  | 'keystore-locked'
  | 'keystore-tampered'
  | 'keystore-insecure'
  | 'keystore-exists'
  | 'keystore-io';

export class KeystoreError extends CodedError<KeystoreErrorCode> {}
