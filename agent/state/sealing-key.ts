import { toHex } from '../../protocol/bytes.js';
import { randomBytes } from '../../protocol/crypto/hashes.js';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as v from 'valibot';
import { writeFileDurably } from '../../platform/durable-file.js';
import { readStateFile } from '../../platform/json-file.js';
import type { Keystore } from '../../platform/keystore/keystore.js';
import { deriveSealingKeys, type SealingKeys } from './user-state-store.js';
import { CodedError } from '../../protocol/coded-error.js';

export const MANIFEST_FORMAT = 'latchkey-agent-state';
export const MANIFEST_FILE = 'agent.json';
const SEALING_KEY_BYTES = 32;

export class KeyUnavailableError extends CodedError<'keystore-unavailable'> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('keystore-unavailable', message, options);
  }
}

const ManifestSchema = v.strictObject({
  format: v.literal(MANIFEST_FORMAT),
  version: v.literal(1),
  stateId: v.pipe(v.string(), v.regex(/^[0-9a-f]{32}$/)),
  keystore: v.picklist(['file', 'os']),
  createdAt: v.string(),
});
export type Manifest = v.InferOutput<typeof ManifestSchema>;

export function sealingKeyName(stateId: string): string {
  return `pool-sealing-key/${stateId}`;
}

export class SealingKeyProvider {
  #cached: SealingKeys | null = null;
  #pending: Promise<SealingKeys> | null = null;

  constructor(
    private readonly stateDir: string,
    private readonly keystore: Keystore,
    /** Whether any user state exists (then a missing manifest or key is an error). */
    private readonly hasUserState: () => Promise<boolean>,
  ) {}

  /** The derived keys; loads (or, for an empty state directory, creates) them once. */
  keys(): Promise<SealingKeys> {
    if (this.#cached) return Promise.resolve(this.#cached);
    this.#pending ??= this.#load().then(
      (keys) => {
        this.#cached = keys;
        this.#pending = null;
        return keys;
      },
      (error: unknown) => {
        this.#pending = null;
        throw error;
      },
    );
    return this.#pending;
  }

  async #load(): Promise<SealingKeys> {
    const manifestFile = path.join(this.stateDir, MANIFEST_FILE);
    const manifest = await this.#readManifest(manifestFile);
    if (manifest === null) {
      if (await this.hasUserState()) {
        throw new KeyUnavailableError(
          `${manifestFile} is missing but user state exists; refusing to create a new sealing key (it could not open that state)`,
        );
      }
      return this.#create(manifestFile);
    }
    if (manifest.keystore !== this.keystore.backend) {
      throw new KeyUnavailableError(
        `the state in ${this.stateDir} was sealed with the ${manifest.keystore} keystore, but the agent is configured with the ${this.keystore.backend} keystore`,
      );
    }
    let master: Uint8Array;
    try {
      master = await this.keystore.get(sealingKeyName(manifest.stateId));
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'keystore-io';
      throw new KeyUnavailableError(
        `cannot read the sealing key ${sealingKeyName(manifest.stateId)} from the ${this.keystore.describe()} (${code}: ${(error as Error).message})`,
        { cause: error },
      );
    }
    try {
      if (master.length !== SEALING_KEY_BYTES)
        throw new KeyUnavailableError(`the sealing key in the ${this.keystore.describe()} has the wrong length`);
      return deriveSealingKeys(master);
    } finally {
      master.fill(0);
    }
  }

  async #readManifest(file: string): Promise<Manifest | null> {
    return readStateFile(
      file,
      ManifestSchema,
      4096,
      'a valid manifest',
      (message, options) => new KeyUnavailableError(message, options),
    );
  }

  async #create(file: string): Promise<SealingKeys> {
    const stateId = toHex(randomBytes(16));
    const master = randomBytes(SEALING_KEY_BYTES);
    try {
      await this.keystore.create(sealingKeyName(stateId), master);
      const manifest: Manifest = {
        format: MANIFEST_FORMAT,
        version: 1,
        stateId,
        keystore: this.keystore.backend,
        createdAt: new Date().toISOString(),
      };
      await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
      await writeFileDurably(file, Buffer.from(`${JSON.stringify(manifest)}\n`), 0o600);
      return deriveSealingKeys(master);
    } catch (error) {
      if (error instanceof KeyUnavailableError) throw error;
      throw new KeyUnavailableError(
        `cannot create the sealing key in the ${this.keystore.describe()}: ${(error as Error).message}`,
        { cause: error },
      );
    } finally {
      master.fill(0);
    }
  }
}
