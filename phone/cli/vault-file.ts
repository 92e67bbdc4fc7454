/**
 * The phone vault on disk (docs/phone.md "The vault at rest"): `HOME/vault.json` (0600) in a
 * 0700 directory owned by this user, replaced durably on every change, with `HOME/vault.lock`
 * (flock) serialising the processes that share it (a `serve` and a `tap`, say).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeFileDurably } from '../../platform/durable-file.js';
import { InsecurePathError, UnusablePathError, checkStats, ensureSecureDirectory } from '../../platform/secure-path.js';
import { ownedByThisProcess, readCheckedFile, type PathRule } from '../../platform/secure-path.js';
import { SystemError } from '../../platform/system-error.js';
import { acquireExclusiveLock, type ExclusiveLock } from '../../platform/file-lock.js';
import { PhoneError } from '../core/errors.js';
import { parsePhoneState, type PhoneState } from '../core/phone-state.js';
import type { PhoneStore } from '../core/ports.js';
import { MAX_VAULT_BYTES, newVaultKey, openVault, sealVault, unlockVault } from '../vault/vault-format.js';
import type { VaultKey } from '../vault/vault-format.js';

export const VAULT_FILE = 'vault.json';
export const LOCK_FILE = 'vault.lock';
/** How long a command waits for another process's change to the vault. */
const LOCK_WAIT_MS = 10_000;
const LOCK_RETRY_MS = 25;

function privateRule(): PathRule {
  return ownedByThisProcess(0o077);
}

async function checkHome(home: string, create: boolean): Promise<void> {
  try {
    if (create) return await ensureSecureDirectory(home, privateRule());
    const stats = await fs.lstat(home);
    if (!stats.isDirectory()) throw new InsecurePathError(home, `${home} is not a directory`);
    checkStats(home, stats, privateRule());
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new PhoneError('vault-missing', `There is no phone vault in ${home} — run "latchkey phone init" first.`);
    if (error instanceof InsecurePathError)
      throw new PhoneError('vault-permissions', `${error.message}.`, { cause: error });
    if (error instanceof UnusablePathError)
      throw new PhoneError('vault-permissions', `${error.message}: choose another --home.`, { cause: error });
    throw error;
  }
}

async function readVaultBytes(file: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readCheckedFile(file, privateRule(), MAX_VAULT_BYTES * 2));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new PhoneError(
        'vault-missing',
        `There is no phone vault in ${path.dirname(file)} — run "latchkey phone init" first.`,
      );
    if (code === 'ELOOP')
      throw new PhoneError('vault-permissions', `${file} is a symbolic link; the vault must be a regular file.`);
    if (error instanceof InsecurePathError)
      throw new PhoneError('vault-permissions', `${error.message}.`, { cause: error });
    if (error instanceof RangeError)
      throw new PhoneError('vault-malformed', 'The vault file is too large to be a phone vault.');
    throw error;
  }
}

async function lock(home: string): Promise<ExclusiveLock> {
  const file = path.join(home, LOCK_FILE);
  const started = Date.now();
  for (;;) {
    try {
      return await acquireExclusiveLock(file);
    } catch (error) {
      if (!(error instanceof SystemError)) throw error;
      if (error.code !== 'lock-held')
        throw new PhoneError('vault-permissions', `Cannot lock the phone vault: ${error.message}.`, { cause: error });
      if (Date.now() - started > LOCK_WAIT_MS)
        throw new PhoneError(
          'vault-busy',
          `Another latchkey phone command kept the vault in ${home} busy for ${LOCK_WAIT_MS / 1000} s.`,
        );
      await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_MS));
    }
  }
}

export class FileVaultStore implements PhoneStore {
  private constructor(
    readonly home: string,
    private readonly key: VaultKey,
  ) {}

  get file(): string {
    return path.join(this.home, VAULT_FILE);
  }

  /** Makes the home directory and a new vault holding `state`; refuses to overwrite one. */
  static async create(
    home: string,
    passphrase: Uint8Array,
    state: PhoneState,
    iterations?: number,
  ): Promise<FileVaultStore> {
    await checkHome(home, true);
    const key = await newVaultKey(passphrase, iterations);
    const store = new FileVaultStore(home, key);
    const held = await lock(home);
    try {
      const exists = await fs.lstat(store.file).then(
        () => true,
        () => false,
      );
      if (exists) throw new PhoneError('vault-exists', `${store.file} already exists; this phone is set up.`);
      await writeFileDurably(store.file, await sealVault(state, key));
    } finally {
      await held.release();
    }
    return store;
  }

  /** Unlocks an existing vault: a wrong passphrase, tampering or bad permissions throw. */
  static async open(home: string, passphrase: Uint8Array): Promise<FileVaultStore> {
    await checkHome(home, false);
    const file = path.join(home, VAULT_FILE);
    const bytes = await readVaultBytes(file);
    const store = new FileVaultStore(home, await unlockVault(bytes, passphrase));
    await openVault(bytes, store.key); // a tampered or malformed vault fails now, not at first use
    return store;
  }

  async read(): Promise<PhoneState> {
    return openVault(await readVaultBytes(this.file), this.key);
  }

  async update<T>(change: (state: PhoneState) => T): Promise<T> {
    const held = await lock(this.home);
    try {
      const state = await this.read();
      const result = change(state);
      if (parsePhoneState(JSON.parse(JSON.stringify(state))) === null)
        throw new PhoneError(
          'vault-malformed',
          'A change would have left the phone state invalid; nothing was written.',
        );
      await writeFileDurably(this.file, await sealVault(state, this.key));
      return result;
    } finally {
      await held.release();
    }
  }
}
