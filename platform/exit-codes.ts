/** Exit codes (docs/cli.md). `verify` owns 0–3; every command uses 64 for a usage error. */
export const EXIT = {
  ok: 0,
  failure: 1,
  rejected: 1,
  locked: 2,
  unavailable: 3,
  usage: 64,
} as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failure,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
