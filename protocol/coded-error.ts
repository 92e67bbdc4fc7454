/**
 * The base of every error that carries a stable code (STYLE.md §5): the code callers map to a
 * wire reason, an exit code or a sentence; the message a person reads; the cause kept for the log.
 * Each area defines its codes and its class once (`errors.ts` per area); `name` is that class's.
 */
export class CodedError<Code extends string> extends Error {
  constructor(
    readonly code: Code,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}
