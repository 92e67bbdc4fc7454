/** Awaits a promise that must reject with a KeystoreError, and returns that error. */
import { expect } from 'vitest';
import { KeystoreError } from '../../../platform/keystore/keystore.js';

export async function rejection(promise: Promise<unknown>): Promise<KeystoreError> {
  const outcome = await promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a KeystoreError, got ${JSON.stringify(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(KeystoreError);
  return outcome.error as KeystoreError;
}
