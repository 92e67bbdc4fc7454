/** Asserts that an error (message, stack and whole cause chain) carries no trace of a secret. */
import { expect } from 'vitest';

export function expectNoSecretIn(error: unknown, secret: Uint8Array): void {
  expect(secret.length, 'a secret to look for').toBeGreaterThan(0);
  const forms = [
    Buffer.from(secret).toString('hex'),
    Buffer.from(secret).toString('base64'),
    Buffer.from(secret).toString('latin1'),
    Array.from(secret).join(','),
  ];
  const texts: string[] = [];
  for (let current = error, depth = 0; current !== undefined && current !== null && depth < 10; depth++) {
    if (current instanceof Error) {
      texts.push(current.message, current.stack ?? '', JSON.stringify(current));
      current = current.cause;
    } else {
      texts.push(String(current));
      break;
    }
  }
  for (const text of texts)
    for (const form of forms)
      expect(text.includes(form), `error text contains the secret as ${form.slice(0, 12)}…`).toBe(false);
}
