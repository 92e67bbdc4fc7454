/**
 * The Control Center's errors (docs/control-center.md "Errors"): a closed set of wire codes,
 * each with one HTTP status, and the startup failures that stop the server before it listens.
 * Messages are sentences for people; they never carry a secret or echo a submitted value.
 */
import { CodedError } from '../protocol/coded-error.js';
import type { WireErrorCode } from '../protocol/online/http-bodies.js';

export type WireCode = WireErrorCode;

export const HTTP_STATUS: Readonly<Record<WireCode, number>> = {
  'bad-request': 400,
  unauthenticated: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  gone: 410,
  'body-too-large': 413,
  'rate-limited': 429,
  internal: 500,
};

export class CcError extends Error {
  readonly status: number;

  constructor(
    readonly code: WireCode,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'CcError';
    this.status = HTTP_STATUS[code];
  }
}

export type StartupErrorCode =
  | 'bad-option'
  | 'database-unreadable'
  | 'database-newer'
  | 'keys-insecure'
  | 'keys-unreadable'
  | 'keys-missing'
  | 'keys-mismatch'
  | 'listen-failed';

export class StartupError extends CodedError<StartupErrorCode> {}
