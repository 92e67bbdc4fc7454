/** Errors of the pure protocol layer. Each carries a stable `code` that callers map to wire reasons. */
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

export class ProtocolError extends Error {
  readonly code: ProtocolErrorCode;
  /** The request id, when the frame was read far enough to know it (IPC decoding). */
  readonly requestId: number | undefined;

  constructor(code: ProtocolErrorCode, message: string, options?: { cause?: unknown; requestId?: number }) {
    super(message, options);
    this.name = 'ProtocolError';
    this.code = code;
    this.requestId = options?.requestId;
  }
}
