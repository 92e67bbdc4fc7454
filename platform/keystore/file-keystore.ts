/**
 * The sealed root-only store (docs/keystore.md, "`file`: the sealed root-only store"): a 0700
 * directory owned by the agent's uid holding `host.key` and one sealed `<sha256(name)>.secret`
 * per entry. Every read checks owner and mode through the descriptor it reads from.
 */
import { promises as fs, type Stats } from 'node:fs';
import { randomBytes } from '../../protocol/crypto/hashes.js';
import path from 'node:path';
import { fsyncDirectory, writeFileDurably } from '../durable-file.js';
import { InsecurePathError, checkStats, ensureSecureDirectory, readCheckedFile } from '../secure-path.js';
import { type PathRule, ownedByThisProcess } from '../secure-path.js';
import { KeystoreError } from './errors.js';
import type { Keystore } from './keystore.js';
import { ENTRY_FILE_SUFFIX, HOST_KEY_BYTES, MAX_ENTRY_FILE_BYTES, entryFileName, openEntry } from './sealed-entry.js';
import { sealEntry } from './sealed-entry.js';

export const HOST_KEY_FILE = 'host.key';

/**
 * How host.key is kept on the disk: as is (Linux: the 0700 directory is the protection), or
 * wrapped by the OS (Windows: DPAPI with the machine's key, docs/windows.md §8).
 */
export interface HostKeyProtector {
  /** Words for describe(), e.g. "host key protected by DPAPI". */
  readonly name: string;
  /** The largest file `protect` writes. */
  readonly maxBytes: number;
  protect(key: Uint8Array): Uint8Array;
  /** The key, or a KeystoreError (`keystore-tampered`) when the file does not open. */
  unprotect(blob: Uint8Array, file: string): Uint8Array;
}

export class FileKeystore implements Keystore {
  readonly backend = 'file';
  readonly directory: string;
  readonly #rule: PathRule;
  /** Writes run one at a time so two first `create`s cannot race to make two host keys. */
  #writes: Promise<unknown> = Promise.resolve();

  readonly #protector: HostKeyProtector | null;

  constructor(directory: string, protector: HostKeyProtector | null = null) {
    this.directory = path.resolve(directory);
    this.#protector = protector;
    // Directory and files alike: owned by this process's uid only, no group/world bits at all.
    this.#rule = ownedByThisProcess(0o077);
  }

  describe(): string {
    return `file keystore in ${this.directory}${this.#protector ? ` (${this.#protector.name})` : ''}`;
  }

  async get(name: string): Promise<Uint8Array> {
    try {
      if (!(await this.#checkExistingDirectory())) throw this.#missing(name);
      const entryPath = this.#entryPath(name);
      const file = await this.#readEntry(name, entryPath);
      const hostKey = await this.#readHostKey();
      if (hostKey === null) {
        throw new KeystoreError(
          'keystore-tampered',
          `${entryPath} holds the entry for "${name}" but ${this.#hostKeyPath()} is missing, so it cannot be unsealed; restore host.key from the same backup as the entries`,
        );
      }
      try {
        return openEntry(hostKey, name, file, entryPath);
      } finally {
        hostKey.fill(0);
      }
    } catch (error) {
      throw this.#mapped(error, `cannot read the secret "${name}"`);
    }
  }

  create(name: string, secret: Uint8Array): Promise<void> {
    return this.#serialised(async () => {
      try {
        await ensureSecureDirectory(this.directory, this.#rule);
        const entryPath = this.#entryPath(name);
        if (await exists(entryPath))
          throw new KeystoreError(
            'keystore-exists',
            `the secret "${name}" already exists in the file keystore in ${this.directory}; delete it first`,
          );
        const hostKey = (await this.#readHostKey()) ?? (await this.#createHostKey());
        try {
          // The agent holds agent.lock and this instance serialises writes, so nothing can
          // create the entry between the check above and this rename (docs/state-files.md).
          await writeFileDurably(entryPath, sealEntry(hostKey, name, secret), 0o600);
        } finally {
          hostKey.fill(0);
        }
      } catch (error) {
        throw this.#mapped(error, `cannot store the secret "${name}"`);
      }
    });
  }

  delete(name: string): Promise<boolean> {
    return this.#serialised(async () => {
      try {
        if (!(await this.#checkExistingDirectory())) return false;
        try {
          await fs.unlink(this.#entryPath(name));
        } catch (error) {
          if (errnoOf(error) === 'ENOENT') return false;
          throw error;
        }
        await fsyncDirectory(this.directory);
        return true;
      } catch (error) {
        throw this.#mapped(error, `cannot delete the secret "${name}"`);
      }
    });
  }

  /** False when the directory does not exist (nothing stored yet); throws when it is unsafe. */
  async #checkExistingDirectory(): Promise<boolean> {
    let stats: Stats;
    try {
      stats = await fs.lstat(this.directory);
    } catch (error) {
      if (errnoOf(error) === 'ENOENT') return false;
      throw error;
    }
    if (!stats.isDirectory()) throw new InsecurePathError(this.directory, `${this.directory} is not a directory`);
    checkStats(this.directory, stats, this.#rule);
    return true;
  }

  async #readEntry(name: string, entryPath: string): Promise<Buffer> {
    try {
      return await readCheckedFile(entryPath, this.#rule, MAX_ENTRY_FILE_BYTES);
    } catch (error) {
      if (errnoOf(error) === 'ENOENT') throw this.#missing(name);
      if (error instanceof RangeError) {
        throw new KeystoreError(
          'keystore-tampered',
          `the keystore entry for "${name}" (${entryPath}) is over ${MAX_ENTRY_FILE_BYTES} bytes: not an entry this agent wrote`,
          { cause: error },
        );
      }
      throw error;
    }
  }

  /** The host key, or null when host.key does not exist. The caller wipes it. */
  async #readHostKey(): Promise<Uint8Array | null> {
    const file = this.#hostKeyPath();
    const maxBytes = this.#protector?.maxBytes ?? HOST_KEY_BYTES;
    let key: Uint8Array;
    try {
      key = await readCheckedFile(file, this.#rule, maxBytes);
    } catch (error) {
      if (errnoOf(error) === 'ENOENT') return null;
      if (error instanceof RangeError)
        throw new KeystoreError('keystore-tampered', `${file} is longer than ${maxBytes} bytes: not a host key`, {
          cause: error,
        });
      throw error;
    }
    if (this.#protector) {
      const blob = key;
      key = this.#protector.unprotect(blob, file);
      blob.fill(0);
    }
    if (key.length !== HOST_KEY_BYTES) {
      const length = key.length;
      key.fill(0);
      throw new KeystoreError('keystore-tampered', `${file} is ${length} bytes, not ${HOST_KEY_BYTES}: not a host key`);
    }
    return key;
  }

  /** Created on the first `create` only, and never while sealed entries exist (they would be lost for good). */
  async #createHostKey(): Promise<Uint8Array> {
    const orphans = (await fs.readdir(this.directory)).filter((file) => file.endsWith(ENTRY_FILE_SUFFIX));
    if (orphans.length > 0) {
      throw new KeystoreError(
        'keystore-tampered',
        `${this.#hostKeyPath()} is missing but ${orphans.length} sealed entries exist in ${this.directory}; refusing to create a new host key that would make them unreadable for good; restore host.key or delete the entries`,
      );
    }
    const key = randomBytes(HOST_KEY_BYTES);
    try {
      const stored = this.#protector ? this.#protector.protect(key) : key;
      await writeFileDurably(this.#hostKeyPath(), stored, 0o600);
    } catch (error) {
      key.fill(0);
      throw error;
    }
    return key;
  }

  #missing(name: string): KeystoreError {
    return new KeystoreError('keystore-missing', `no secret named "${name}" in the file keystore in ${this.directory}`);
  }

  #mapped(error: unknown, doing: string): KeystoreError {
    if (error instanceof KeystoreError) return error;
    if (error instanceof InsecurePathError)
      return new KeystoreError('keystore-insecure', `${doing}: ${error.message}`, { cause: error });
    const errno = errnoOf(error);
    if (errno === 'ELOOP')
      return new KeystoreError('keystore-insecure', `${doing}: a file in ${this.directory} is a symbolic link`, {
        cause: error,
      });
    const detail = error instanceof Error ? error.message : String(error);
    return new KeystoreError('keystore-io', `${doing} in the file keystore in ${this.directory}: ${detail}`, {
      cause: error,
    });
  }

  #serialised<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.#writes.then(operation);
    this.#writes = result.catch(() => undefined);
    return result;
  }

  #entryPath(name: string): string {
    return path.join(this.directory, entryFileName(name));
  }

  #hostKeyPath(): string {
    return path.join(this.directory, HOST_KEY_FILE);
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.lstat(file);
    return true;
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return false;
    throw error;
  }
}

function errnoOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;
}
