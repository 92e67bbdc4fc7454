/** The vault format (phone/vault/vault-format.ts): what opens, and every way it refuses to. */
import { describe, expect, it } from 'vitest';
import { newPhoneState } from '../../../phone/core/phone.js';
import { MIN_PBKDF2_ITERATIONS, newVaultKey, openVault, sealVault } from '../../../phone/vault/vault-format.js';
import { unlockVault } from '../../../phone/vault/vault-format.js';
import { fromBase64url, toBase64url } from '../../../protocol/online/base64url.js';
import { phoneErrorCode } from '../helpers/phone-error.js';

const utf8 = (s: string) => new TextEncoder().encode(s);
const passphrase = () => utf8('correct horse battery');

async function sealed() {
  const state = await newPhoneState('Ana’s phone', 1_800_000_000_000);
  const key = await newVaultKey(passphrase());
  return { state, key, file: await sealVault(state, key) };
}

function edit(file: Uint8Array, change: (json: Record<string, unknown>) => void): Uint8Array {
  const json = JSON.parse(new TextDecoder().decode(file));
  change(json);
  return utf8(JSON.stringify(json));
}

const code = phoneErrorCode;

describe('vault format', () => {
  it('round-trips the phone state; the file shows no key material', async () => {
    const { state, file } = await sealed();
    const key = await unlockVault(file, passphrase());
    expect(await openVault(file, key)).toEqual(state);
    const text = new TextDecoder().decode(file);
    expect(JSON.parse(text)).toMatchObject({
      format: 'latchkey-phone-vault',
      v: 1,
      kdf: { name: 'PBKDF2-SHA-256', iterations: 600_000 },
      cipher: 'AES-256-GCM',
    });
    expect(text).not.toContain(state.device.signingPkcs8);
    expect(text).not.toContain(state.device.boxPkcs8);
    expect(text).not.toContain('Ana');
  });

  it('a fresh nonce per write, the same key', async () => {
    const { state, key, file } = await sealed();
    const again = await sealVault(state, key);
    expect(JSON.parse(new TextDecoder().decode(again)).nonce).not.toBe(
      JSON.parse(new TextDecoder().decode(file)).nonce,
    );
  });

  it('a wrong passphrase is vault-wrong-passphrase, never an empty vault', async () => {
    const { file } = await sealed();
    expect(await code(unlockVault(file, utf8('correct horse battery!')))).toBe('vault-wrong-passphrase');
    expect(await code(unlockVault(file, utf8('')))).toBe('vault-wrong-passphrase');
  });

  it('a changed ciphertext, nonce or tag is vault-tampered', async () => {
    const { key, file } = await sealed();
    const flip = (field: 'ciphertext' | 'nonce', at: number) =>
      edit(file, (json) => {
        const bytes = fromBase64url(json[field] as string);
        bytes[at]! ^= 1;
        json[field] = toBase64url(bytes);
      });
    expect(await code(openVault(flip('ciphertext', 0), key))).toBe('vault-tampered');
    expect(
      await code(
        openVault(
          flip('ciphertext', fromBase64url(JSON.parse(new TextDecoder().decode(file)).ciphertext).length - 1),
          key,
        ),
      ),
    ).toBe('vault-tampered');
    expect(await code(openVault(flip('nonce', 3), key))).toBe('vault-tampered');
  });

  it('a changed header fails: more iterations, another salt, another check', async () => {
    const { key, file } = await sealed();
    const more = edit(file, (json) => ((json.kdf as { iterations: number }).iterations = 700_000));
    expect(await code(openVault(more, key))).toBe('vault-tampered');
    expect(await code(unlockVault(more, passphrase()))).toBe('vault-wrong-passphrase');
    const salt = edit(file, (json) => ((json.kdf as { salt: string }).salt = toBase64url(new Uint8Array(16))));
    expect(await code(unlockVault(salt, passphrase()))).toBe('vault-wrong-passphrase');
  });

  it('refuses fewer than 600,000 iterations on read, and malformed files by name', async () => {
    const { file } = await sealed();
    const weak = edit(file, (json) => ((json.kdf as { iterations: number }).iterations = MIN_PBKDF2_ITERATIONS - 1));
    expect(await code(unlockVault(weak, passphrase()))).toBe('vault-malformed');
    expect(await code(unlockVault(utf8('not json'), passphrase()))).toBe('vault-malformed');
    expect(await code(unlockVault(utf8('{}'), passphrase()))).toBe('vault-malformed');
    expect(await code(unlockVault(new Uint8Array(), passphrase()))).toBe('vault-malformed');
    expect(
      await code(
        unlockVault(
          edit(file, (json) => (json.extra = 1)),
          passphrase(),
        ),
      ),
    ).toBe('vault-malformed');
  });

  it('a vault whose plaintext is not a phone state is vault-malformed', async () => {
    const key = await newVaultKey(passphrase());
    const bogus = await sealVault({ v: 1 } as never, key);
    expect(await code(openVault(bogus, key))).toBe('vault-malformed');
  });

  it('refuses a passphrase under 8 characters at init', async () => {
    expect(await code(newVaultKey(utf8('short')))).toBe('weak-passphrase');
  });

  it('no error message carries the passphrase', async () => {
    const { file } = await sealed();
    const error = (await unlockVault(file, utf8('hunter2-secret-word')).catch((e: unknown) => e)) as Error;
    expect(error.message).not.toContain('hunter2');
  });
});
