/** Errors of the pure protocol layer. Each carries a stable `code` that callers map to wire reasons. */
import { CodedError } from './coded-error.js';

export type ProtocolErrorCode =
  | 'bad-frame'
  | 'frame-too-large'
  | 'unsupported-version'
  | 'unknown-op'
  | 'missing-field'
  | 'bad-field'
  | 'bad-pin-format'
  | 'bad-seed'
  | 'bad-counter'
  | 'bad-uri'
  | 'bad-base32';

export class ProtocolError extends CodedError<ProtocolErrorCode> {
  /** The request id, when the frame was read far enough to know it (IPC decoding). */
  readonly requestId: number | undefined;

  constructor(code: ProtocolErrorCode, message: string, options?: { cause?: unknown; requestId?: number }) {
    super(code, message, options);
    this.requestId = options?.requestId;
  }
}
