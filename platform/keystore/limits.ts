/**
 * The keystore's public contract on names and secrets (docs/keystore.md, "Names are …").
 * Checked once at the public API (openKeystore's facade); backends trust the types.
 */
export const NAME_PATTERN = /^[a-z0-9/._-]{1,128}$/;
export const MIN_SECRET_BYTES = 1;
export const MAX_SECRET_BYTES = 4096;

export function checkName(name: unknown): asserts name is string {
  if (typeof name !== 'string') throw new TypeError(`name must be a string (got ${typeof name})`);
  // The name itself is not echoed: a caller that passes the wrong value may be passing a secret.
  if (!NAME_PATTERN.test(name))
    throw new RangeError(`name must match [a-z0-9/._-]{1,128} (got a string of ${name.length} characters)`);
}

export function checkSecret(secret: unknown): asserts secret is Uint8Array {
  if (!(secret instanceof Uint8Array))
    throw new TypeError(`secret must be a Uint8Array (got ${secret === null ? 'null' : typeof secret})`);
  if (secret.length < MIN_SECRET_BYTES || secret.length > MAX_SECRET_BYTES) {
    throw new RangeError(`secret must be ${MIN_SECRET_BYTES}–${MAX_SECRET_BYTES} bytes (got ${secret.length})`);
  }
}
