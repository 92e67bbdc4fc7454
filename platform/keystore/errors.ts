/** Errors of the keystore (docs/keystore.md, table of codes). Messages never contain secret bytes. */
export type KeystoreErrorCode =
  | 'keystore-missing'
  | 'keystore-locked'
  | 'keystore-tampered'
  | 'keystore-insecure'
  | 'keystore-exists'
  | 'keystore-io';

export class KeystoreError extends Error {
  readonly code: KeystoreErrorCode;

  constructor(code: KeystoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KeystoreError';
    this.code = code;
  }
}
