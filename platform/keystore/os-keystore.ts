/**
 * The OS keychain backend (docs/keystore.md, "`os`: the OS keychain") over @napi-rs/keyring:
 * service "latchkey" by default, the secret's name as the account, pinned to the Secret
 * Service on Linux. Loaded only through openKeystore's dynamic import, so an agent on the
 * file store never loads the native library.
 */
import type { AsyncEntry as AsyncEntryType, EntryOptions } from '@napi-rs/keyring';
import { requireCjs } from '../load-cjs.js';
import { KeystoreError } from './errors.js';
import type { Keystore } from './keystore.js';
import { MAX_SECRET_BYTES, MIN_SECRET_BYTES } from './limits.js';

const { AsyncEntry } = requireCjs('@napi-rs/keyring') as typeof import('@napi-rs/keyring');

/** The library's default silently falls back to the kernel keyring, which a reboot empties. */
const ENTRY_OPTIONS: EntryOptions = { linux: { store: 'secret-service' } };

type Action = 'read' | 'store' | 'delete';

export class OsKeystore implements Keystore {
  readonly backend = 'os';

  constructor(
    readonly service: string,
    /** What the OS calls its keychain ("Secret Service"), for describe(). */
    readonly storeName: string,
  ) {}

  describe(): string {
    return `OS keychain (${this.storeName}), service "${this.service}"`;
  }

  async get(name: string): Promise<Uint8Array> {
    const stored = await this.#call(name, 'read', (entry) => entry.getSecret());
    if (stored === null) throw this.#missing(name);
    return takeSecret(stored, name);
  }

  async create(name: string, secret: Uint8Array): Promise<void> {
    // The Secret Service has no "create unless present": check, then store. The agent is the
    // only writer of its entries and holds agent.lock (docs/state-files.md).
    const existing = await this.#call(name, 'store', (entry) => entry.getSecret());
    if (existing !== null) {
      existing.fill(0);
      throw new KeystoreError(
        'keystore-exists',
        `the secret "${name}" already exists in the OS keychain (service "${this.service}"); delete it first`,
      );
    }
    await this.#call(name, 'store', (entry) => entry.setSecret(secret));
  }

  delete(name: string): Promise<boolean> {
    return this.#call(name, 'delete', (entry) => entry.deleteCredential());
  }

  async #call<T>(name: string, action: Action, operation: (entry: AsyncEntryType) => Promise<T>): Promise<T> {
    try {
      // A new entry per call: the constructor connects to the session bus (and throws when there
      // is none), so a bus that went away and came back is picked up on the next call.
      return await operation(new AsyncEntry(this.service, name, ENTRY_OPTIONS));
    } catch (error) {
      throw classifyKeyringError(
        error,
        `cannot ${action} the secret "${name}" in the OS keychain (service "${this.service}")`,
      );
    }
  }

  #missing(name: string): KeystoreError {
    return new KeystoreError(
      'keystore-missing',
      `no secret named "${name}" in the OS keychain (service "${this.service}")`,
    );
  }
}

/** Copies the library's number array into bytes and zeroes the array. */
function takeSecret(stored: number[], name: string): Uint8Array {
  const secret = Uint8Array.from(stored);
  stored.fill(0);
  if (secret.length < MIN_SECRET_BYTES || secret.length > MAX_SECRET_BYTES) {
    const length = secret.length;
    secret.fill(0);
    throw new KeystoreError(
      'keystore-io',
      `the OS keychain holds ${length} bytes under "${name}", outside ${MIN_SECRET_BYTES}–${MAX_SECRET_BYTES}: not a secret this agent stored`,
    );
  }
  return secret;
}

/**
 * The library reports every failure as a GenericFailure whose message (and cause chain) says
 * what happened, so the messages seen from gnome-keyring and libdbus are matched here
 * (test/platform/keystore/os-keystore.integration.test.ts produces each one for real).
 */
const LOCKED = [
  /Secret Service: unlock prompt was dismissed/i, // locked collection, no prompter (headless, login screen)
  /Secret Service: object locked/i,
  /prompt dismissed/i,
  /connection closed before prompt completed/i,
];
const NO_SERVICE = [
  /Failed to connect to socket/i, // DBUS_SESSION_BUS_ADDRESS names a socket that is not there
  /autolaunch/i, // no DBUS_SESSION_BUS_ADDRESS at all
  /was not provided by any \.service files/i, // a bus, but no Secret Service on it
  /No DBus session or Secret Service provider found/i,
  /no secret service provider or dbus session found/i,
  /Did not receive a reply/i,
  /disconnected from D-Bus/i,
];
const NO_DEFAULT_COLLECTION = /Secret Service: no result found/i;

export function classifyKeyringError(error: unknown, doing: string): KeystoreError {
  const messages = causeMessages(error);
  const detail = messages.at(-1) ?? String(error);
  if (messages.some((message) => LOCKED.some((pattern) => pattern.test(message)))) {
    return new KeystoreError('keystore-locked', `${doing}: the keyring is locked (${detail})`, { cause: error });
  }
  if (messages.some((message) => NO_SERVICE.some((pattern) => pattern.test(message)))) {
    return new KeystoreError(
      'keystore-locked',
      `${doing}: no session bus or no Secret Service is reachable (${detail})`,
      { cause: error },
    );
  }
  if (messages.some((message) => NO_DEFAULT_COLLECTION.test(message))) {
    return new KeystoreError(
      'keystore-io',
      `${doing}: the Secret Service has no default keyring to store into (${detail})`,
      { cause: error },
    );
  }
  return new KeystoreError('keystore-io', `${doing}: ${detail}`, { cause: error });
}

function causeMessages(error: unknown): string[] {
  const messages: string[] = [];
  for (let current = error, depth = 0; current instanceof Error && depth < 8; current = current.cause, depth++) {
    messages.push(current.message);
  }
  return messages;
}
