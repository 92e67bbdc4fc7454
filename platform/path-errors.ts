/** The errors of the file-access seam (secure-path.ts): a path refused by its rule, and a directory that cannot be made or used. */
import { CodedError } from '../protocol/coded-error.js';

export class InsecurePathError extends CodedError<'insecure-path'> {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super('insecure-path', message);
  }
}

/** A directory that cannot be made or used, with the sentence that says why (docs/cli.md). */
export class UnusablePathError extends CodedError<'unusable-path'> {
  /** The directory that was asked for. */
  readonly path: string;

  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super('unusable-path', message, options);
    this.path = path;
  }
}
