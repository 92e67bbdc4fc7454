/**
 * Errors of the pure BLE protocol layer (docs/ble-protocol.md §8). Each carries a stable `code`;
 * a failed session never recovers, so callers map the code to a denial and end the connection.
 */
import { CodedError } from '../../protocol/coded-error.js';

export type BleFramingErrorCode =
  | 'fragment-malformed'
  | 'fragment-too-large'
  | 'message-too-large'
  | 'fragment-gap'
  | 'fragment-duplicate'
  | 'message-out-of-order'
  | 'message-overrun'
  | 'reassembly-timeout';

export type BleHandshakeErrorCode =
  | 'message-malformed'
  | 'unexpected-message'
  | 'unknown-tag'
  | 'replayed-hello'
  | 'unsupported-request'
  | 'bad-signature'
  | 'bad-key'
  | 'decrypt-failed'
  | 'declined'
  | 'approval-timeout'
  | 'reply-too-late'
  | 'signal-too-weak'
  | 'peer-error'
  | 'refused'
  | 'step-timeout';

/** Pairing over BLE (docs/ble-protocol.md §12). */
export type BlePairingErrorCode =
  /** PAIR-READY or PAIR-CONFIRM does not open, or its MAC does not verify: a wrong code, or tampering. */
  | 'pairing-mismatch'
  /** The peer's store of the new pairing failed (PAIR-DONE said so). */
  | 'pairing-not-stored';

export type BleProtocolErrorCode = BleFramingErrorCode | BleHandshakeErrorCode | BlePairingErrorCode;

export class BleProtocolError extends CodedError<BleProtocolErrorCode> {
  /** The ERROR code the peer sent, for `peer-error` (§5.1). */
  readonly peerCode: number | undefined;

  constructor(code: BleProtocolErrorCode, message: string, options?: { cause?: unknown; peerCode?: number }) {
    super(code, message, options);
    this.peerCode = options?.peerCode;
  }
}

/** `error` as the session reports it: itself when it is a protocol error, else an internal fault of `where` (the cause kept). */
export function asBleProtocolError(error: unknown, where: string): BleProtocolError {
  return error instanceof BleProtocolError
    ? error
    : new BleProtocolError('message-malformed', `internal fault in ${where}`, { cause: error });
}
