/**
 * The keystore interface (docs/keystore.md): one contract, two real backends. openKeystore
 * returns a facade that checks names and secrets at this public API, then hands the call to
 * the backend; the OS backend (and its native library) is loaded only when first used.
 */
import path from 'node:path';
import { KeystoreError } from './errors.js';
import { FileKeystore } from './file-keystore.js';
import { checkName, checkSecret } from './limits.js';

export { KeystoreError, type KeystoreErrorCode } from './errors.js';
export { MAX_SECRET_BYTES, MIN_SECRET_BYTES, NAME_PATTERN } from './limits.js';

export type KeystoreBackend = 'file' | 'os';

export interface Keystore {
  readonly backend: KeystoreBackend;
  /** The secret, or a KeystoreError — never null: a missing secret is an error. */
  get(name: string): Promise<Uint8Array>;
  /** Store a new secret; refuses to overwrite an existing one (`keystore-exists`). */
  create(name: string, secret: Uint8Array): Promise<void>;
  /** True when a secret was deleted, false when there was none. */
  delete(name: string): Promise<boolean>;
  /** One line for logs and `latchkey status`, e.g. "file keystore in /var/lib/latchkey/keystore". */
  describe(): string;
}

/** What a backend implements; the facade adds argument checks and describe(). */
export interface KeystoreOperations {
  get(name: string): Promise<Uint8Array>;
  create(name: string, secret: Uint8Array): Promise<void>;
  delete(name: string): Promise<boolean>;
}

export type KeystoreOptions = { backend: 'file'; directory: string } | { backend: 'os'; service?: string };

export const DEFAULT_FILE_DIRECTORY = '/var/lib/latchkey/keystore';
export const DEFAULT_OS_SERVICE = 'latchkey';

export function openKeystore(options: KeystoreOptions): Keystore {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  if (options.backend === 'file') {
    if (typeof options.directory !== 'string') throw new TypeError('options.directory must be a string');
    if (!path.isAbsolute(options.directory)) throw new RangeError('options.directory must be an absolute path');
    const backend = new FileKeystore(options.directory);
    return checked('file', backend, `file keystore in ${backend.directory}`);
  }
  if (options.backend === 'os') {
    const service = options.service ?? DEFAULT_OS_SERVICE;
    if (typeof service !== 'string') throw new TypeError('options.service must be a string');
    if (service.length < 1 || service.length > 128) throw new RangeError('options.service must be 1–128 characters');
    return checked('os', lazyOsKeystore(service), `OS keychain (${osStoreName()}), service "${service}"`);
  }
  throw new RangeError(`options.backend must be "file" or "os"`);
}

function checked(backend: KeystoreBackend, operations: KeystoreOperations, description: string): Keystore {
  return {
    backend,
    async get(name) {
      checkName(name);
      return operations.get(name);
    },
    async create(name, secret) {
      checkName(name);
      checkSecret(secret);
      return operations.create(name, secret);
    },
    async delete(name) {
      checkName(name);
      return operations.delete(name);
    },
    describe: () => description,
  };
}

function lazyOsKeystore(service: string): KeystoreOperations {
  let loading: Promise<KeystoreOperations> | undefined;
  const load = (): Promise<KeystoreOperations> =>
    (loading ??= import('./os-keystore.js').then(
      (module) => new module.OsKeystore(service),
      (error: unknown) => {
        loading = undefined;
        throw new KeystoreError('keystore-io', 'the OS keychain library (@napi-rs/keyring) could not be loaded', { cause: error });
      },
    ));
  return {
    get: async (name) => (await load()).get(name),
    create: async (name, secret) => (await load()).create(name, secret),
    delete: async (name) => (await load()).delete(name),
  };
}

function osStoreName(): string {
  switch (process.platform) {
    case 'linux':
      return 'Secret Service';
    case 'darwin':
      return 'macOS Keychain';
    case 'win32':
      return 'Windows Credential Manager';
    default:
      return process.platform;
  }
}
