/** The vault on disk (phone/cli/vault-file.ts) and where the passphrase comes from (passphrase.ts). */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readPassphrase } from '../../../phone/cli/passphrase.js';
import { FileVaultStore, LOCK_FILE, VAULT_FILE } from '../../../phone/cli/vault-file.js';
import { newPhoneState } from '../../../phone/core/phone.js';
import { makeTempDir } from '../../helpers/agent-harness.js';
import { phoneErrorCode } from '../helpers/phone-error.js';

const utf8 = (s: string) => new TextEncoder().encode(s);
const PASS = 'correct horse battery';

async function home(): Promise<string> {
  return path.join(await makeTempDir('latchkey-phone-'), 'phone');
}

const code = phoneErrorCode;

const mode = async (p: string) => (await fs.stat(p)).mode & 0o777;

describe('vault file', () => {
  it('creates a 0700 home with a 0600 vault, and refuses to overwrite it', async () => {
    const dir = await home();
    const state = await newPhoneState('phone', 1);
    await FileVaultStore.create(dir, utf8(PASS), state);
    expect(await mode(dir)).toBe(0o700);
    expect(await mode(path.join(dir, VAULT_FILE))).toBe(0o600);
    expect(await (await FileVaultStore.open(dir, utf8(PASS))).read()).toEqual(state);
    expect(await code(FileVaultStore.create(dir, utf8(PASS), state))).toBe('vault-exists');
  });

  it('a missing vault, a wrong passphrase and a tampered file are named errors', async () => {
    const dir = await home();
    expect(await code(FileVaultStore.open(dir, utf8(PASS)))).toBe('vault-missing');
    await FileVaultStore.create(dir, utf8(PASS), await newPhoneState('phone', 1));
    expect(await code(FileVaultStore.open(dir, utf8('not the passphrase')))).toBe('vault-wrong-passphrase');
    const file = path.join(dir, VAULT_FILE);
    const json = JSON.parse(await fs.readFile(file, 'utf8'));
    json.ciphertext = `${json.ciphertext.slice(0, -2)}${json.ciphertext.endsWith('AA') ? 'AQ' : 'AA'}`;
    await fs.writeFile(file, JSON.stringify(json));
    expect(await code(FileVaultStore.open(dir, utf8(PASS)))).toBe('vault-tampered');
    await fs.writeFile(file, '');
    expect(await code(FileVaultStore.open(dir, utf8(PASS)))).toBe('vault-malformed');
  });

  it('refuses a home or vault others can read, and a symlinked vault', async () => {
    const dir = await home();
    await FileVaultStore.create(dir, utf8(PASS), await newPhoneState('phone', 1));
    await fs.chmod(dir, 0o755);
    expect(await code(FileVaultStore.open(dir, utf8(PASS)))).toBe('vault-permissions');
    await fs.chmod(dir, 0o700);
    const file = path.join(dir, VAULT_FILE);
    await fs.chmod(file, 0o644);
    expect(await code(FileVaultStore.open(dir, utf8(PASS)))).toBe('vault-permissions');
    await fs.chmod(file, 0o600);
    await fs.rename(file, path.join(dir, 'real.json'));
    await fs.symlink(path.join(dir, 'real.json'), file);
    expect(await code(FileVaultStore.open(dir, utf8(PASS)))).toBe('vault-permissions');
  });

  it('writes durably: a new file by rename, no temp files left, a failed change writes nothing', async () => {
    const dir = await home();
    const store = await FileVaultStore.create(dir, utf8(PASS), await newPhoneState('phone', 1));
    const file = path.join(dir, VAULT_FILE);
    const inode = (await fs.stat(file)).ino;
    await store.update((state) => {
      state.device.name = 'renamed';
    });
    expect((await fs.stat(file)).ino).not.toBe(inode); // replaced, not rewritten in place
    expect((await fs.readdir(dir)).sort()).toEqual([LOCK_FILE, VAULT_FILE].sort());
    const before = await fs.readFile(file);
    await expect(
      store.update(() => {
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    await expect(
      store.update((state) => {
        state.device.name = '';
      }),
    ).rejects.toMatchObject({ code: 'vault-malformed' });
    expect(await fs.readFile(file)).toEqual(before);
    expect((await store.read()).device.name).toBe('renamed');
  });

  it('serialises updates from two processes’ stores: no change is lost', async () => {
    const dir = await home();
    await FileVaultStore.create(dir, utf8(PASS), await newPhoneState('phone', 1));
    const [a, b] = await Promise.all([FileVaultStore.open(dir, utf8(PASS)), FileVaultStore.open(dir, utf8(PASS))]);
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        (i % 2 ? a : b).update((state) => {
          state.device.createdAt += 1;
        }),
      ),
    );
    expect((await a.read()).device.createdAt).toBe(7);
  });
});

describe('passphrase sources', () => {
  it('a file’s first line, refused when group or others can read it; else the environment', async () => {
    const dir = await makeTempDir('latchkey-phone-');
    const file = path.join(dir, 'pass');
    await fs.writeFile(file, `${PASS}\r\nsecond line\n`, { mode: 0o600 });
    expect(new TextDecoder().decode(await readPassphrase({ passphraseFile: file }))).toBe(PASS);
    await fs.chmod(file, 0o640);
    expect(await code(readPassphrase({ passphraseFile: file }))).toBe('vault-permissions');
    expect(await code(readPassphrase({ passphraseFile: path.join(dir, 'missing') }))).toBe('vault-permissions');
    expect(new TextDecoder().decode(await readPassphrase({ env: { LATCHKEY_PHONE_PASSPHRASE: 'from the env' } }))).toBe(
      'from the env',
    );
  });
});
