/**
 * Errors of the operating-system seams (platform/). Each carries a stable `code` the agent
 * maps to a wire reason or a startup failure; `cause` keeps the underlying error for the log.
 * No message ever contains a secret.
 */
import { CodedError } from '../protocol/coded-error.js';

export type SystemErrorCode =
  | 'peer-credentials-unavailable'
  | 'user-lookup-failed'
  | 'lock-held'
  | 'lock-unavailable'
  | 'boot-clock-unavailable'
  | 'pam-unavailable'
  | 'files-unavailable';

export class SystemError extends CodedError<SystemErrorCode> {}

/** Fails closed on every platform this layer does not implement yet. */
export function requireLinux(code: SystemErrorCode, what: string): void {
  if (process.platform !== 'linux') {
    throw new SystemError(code, `${what} is only implemented on Linux (this is ${process.platform})`);
  }
}
