/** The code of the PhoneError a promise rejects with (fails the test on anything else, or on success). */
import { expect } from 'vitest';
import { PhoneError } from '../../../phone/core/errors.js';

export async function phoneErrorCode(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PhoneError);
  return (error as PhoneError).code;
}
