/** The errors of the file-access seam (secure-path.ts): a path refused by its rule, and a directory that cannot be made or used. */

export class InsecurePathError extends Error {
  readonly code = 'insecure-path';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = 'InsecurePathError';
  }
}

/** A directory that cannot be made or used, with the sentence that says why (docs/cli.md). */
export class UnusablePathError extends Error {
  readonly code = 'unusable-path';
  constructor(
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'UnusablePathError';
  }
}
