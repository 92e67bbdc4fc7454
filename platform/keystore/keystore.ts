/**
 * The keystore seam (docs/keystore.md): one interface, two backends each OS supplies (platform.ts
 * `keystores`): `file`, sealed files only the agent reads, for a system service; `os`, the OS
 * keychain. openKeystore wraps the backend in a facade that checks names and secrets at this
 * public API; the OS backend (and its native library) is loaded only when first used.
 * Linux: FileKeystore (host.key in a root-only directory) and the Secret Service
 * (platform/linux/keystores.ts).
 */
import path from 'node:path';
import { currentPlatform } from '../platform.js';
import { KeystoreError } from './errors.js';
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

/** The backends an OS supplies; each implements Keystore and trusts its arguments (the facade checks them). */
export interface KeystoreBackends {
  file(directory: string): Keystore;
  os(service: string): Keystore;
}

export type KeystoreOptions = { backend: 'file'; directory: string } | { backend: 'os'; service?: string };

export const DEFAULT_FILE_DIRECTORY = '/var/lib/latchkey/keystore';
export const DEFAULT_OS_SERVICE = 'latchkey';

export function openKeystore(options: KeystoreOptions): Keystore {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  if (options.backend === 'file') {
    if (typeof options.directory !== 'string') throw new TypeError('options.directory must be a string');
    if (!path.isAbsolute(options.directory)) throw new RangeError('options.directory must be an absolute path');
    return checked(currentPlatform().keystores.file(path.resolve(options.directory)));
  }
  if (options.backend === 'os') {
    const service = options.service ?? DEFAULT_OS_SERVICE;
    if (typeof service !== 'string') throw new TypeError('options.service must be a string');
    if (service.length < 1 || service.length > 128) throw new RangeError('options.service must be 1–128 characters');
    return checked(currentPlatform().keystores.os(service));
  }
  throw new RangeError(`options.backend must be "file" or "os"`);
}

function checked(store: Keystore): Keystore {
  return {
    backend: store.backend,
    async get(name) {
      checkName(name);
      return store.get(name);
    },
    async create(name, secret) {
      checkName(name);
      checkSecret(secret);
      return store.create(name, secret);
    },
    async delete(name) {
      checkName(name);
      return store.delete(name);
    },
    describe: () => store.describe(),
  };
}

/** The OS keychain through @napi-rs/keyring, whose native library loads on the first call. */
export function lazyOsKeystore(service: string, storeName: string): Keystore {
  let loading: Promise<Keystore> | undefined;
  const load = (): Promise<Keystore> =>
    (loading ??= import('./os-keystore.js').then(
      (module) => new module.OsKeystore(service, storeName),
      (error: unknown) => {
        loading = undefined;
        throw new KeystoreError('keystore-io', 'the OS keychain library (@napi-rs/keyring) could not be loaded', {
          cause: error,
        });
      },
    ));
  return {
    backend: 'os',
    get: async (name) => (await load()).get(name),
    create: async (name, secret) => (await load()).create(name, secret),
    delete: async (name) => (await load()).delete(name),
    describe: () => `OS keychain (${storeName}), service "${service}"`,
  };
}
