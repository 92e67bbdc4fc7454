/**
 * The phone vault (docs/phone.md "The vault at rest") against vaults an independent
 * implementation sealed (test/vectors/generate-phone-vault-vectors.py): the keys a passphrase
 * stretches into, the state inside, and each vault the reader refuses, with its code.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openVault, unlockVault } from '../../../phone/vault/vault-format.js';
import { toHex, utf8 } from '../../../protocol/bytes.js';
import { phoneErrorCode } from '../helpers/phone-error.js';

interface Vectors {
  passphrase: string;
  encKeyHex: string;
  check: string;
  vault: string;
  state: unknown;
  invalid: { name: string; vault: string; passphrase: string; code: string }[];
}
const vectors = JSON.parse(readFileSync(new URL('../../vectors/phone-vault.json', import.meta.url), 'utf8')) as Vectors;

async function open(vault: string, passphrase: string) {
  const file = utf8(vault);
  return openVault(file, await unlockVault(file, utf8(passphrase)));
}

describe('phone vault vectors', () => {
  it("stretches the passphrase into the generator's key and opens its vault to its state", async () => {
    const key = await unlockVault(utf8(vectors.vault), utf8(vectors.passphrase));
    expect(toHex(key.encKey)).toBe(vectors.encKeyHex);
    expect(key.header.check).toBe(vectors.check);
    expect(await openVault(utf8(vectors.vault), key)).toEqual(vectors.state);
  });

  it.each(vectors.invalid)('refuses $name with $code', async ({ vault, passphrase, code }) => {
    expect(await phoneErrorCode(open(vault, passphrase))).toBe(code);
  });
});
