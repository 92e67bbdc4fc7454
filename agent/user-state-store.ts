/**
 * Sealed per-user state files (docs/state-files.md). A file that exists but cannot be read,
 * authenticated or validated is an error, never "no pools"; it is left untouched.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as v from 'valibot';
import { writeFileDurably } from './durable-file.js';
import { describeIssues } from './schema-errors.js';
import { readCheckedFile } from './secure-path.js';
import { UserStateSchema, userStateToJson, type UserState } from './user-state.js';

export const USER_STATE_FORMAT = 'latchkey-user-state';
export const USER_STATE_VERSION = 1;
export const MAX_STATE_FILE_BYTES = 1024 * 1024;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const AAD_LABEL = 'latchkey-user-state/v1';

export interface SealingKeys {
  readonly stateKey: Uint8Array;
  readonly tagKey: Uint8Array;
}

/** K_state and K_tag from the keystore's sealing key (docs/state-files.md). */
export function deriveSealingKeys(master: Uint8Array): SealingKeys {
  const derive = (info: string) => new Uint8Array(hkdfSync('sha256', master, new Uint8Array(0), info, 32));
  return { stateKey: derive('latchkey/user-state/v1'), tagKey: derive('latchkey/wrong-pin-tag/v1') };
}

export class StateUnreadableError extends Error {
  readonly code = 'state-unreadable';
  constructor(
    readonly file: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StateUnreadableError';
  }
}

function aadFor(user: string): Buffer {
  return Buffer.concat([Buffer.from(AAD_LABEL), Buffer.from([0]), Buffer.from(user, 'utf8')]);
}

export function sealUserState(state: UserState, keys: SealingKeys): Uint8Array {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keys.stateKey, nonce);
  cipher.setAAD(aadFor(state.user));
  const plaintext = Buffer.from(JSON.stringify(userStateToJson(state)), 'utf8');
  const sealed = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  plaintext.fill(0);
  const file = { format: USER_STATE_FORMAT, version: USER_STATE_VERSION, user: state.user, nonce: nonce.toString('base64'), sealed: sealed.toString('base64') };
  return Buffer.from(`${JSON.stringify(file)}\n`, 'utf8');
}

const EnvelopeSchema = v.strictObject({
  format: v.literal(USER_STATE_FORMAT),
  version: v.literal(USER_STATE_VERSION),
  user: v.pipe(v.string(), v.minLength(1), v.maxLength(256)),
  nonce: v.pipe(v.string(), v.regex(/^[A-Za-z0-9+/]{16}$/)),
  sealed: v.pipe(v.string(), v.regex(/^[A-Za-z0-9+/]*={0,2}$/)),
});

/** Opens a sealed file for `user`; throws StateUnreadableError saying why. */
export function openUserState(bytes: Uint8Array, user: string, keys: SealingKeys, file = '(state)'): UserState {
  const fail = (why: string, cause?: unknown) => new StateUnreadableError(file, `state file ${file} for user ${JSON.stringify(user)} ${why}`, { cause });
  let envelope: v.InferOutput<typeof EnvelopeSchema>;
  try {
    const parsed = v.safeParse(EnvelopeSchema, JSON.parse(Buffer.from(bytes).toString('utf8')));
    if (!parsed.success) throw fail(`is not a version ${USER_STATE_VERSION} state file: ${describeIssues(parsed.issues, '')}`);
    envelope = parsed.output;
    if (envelope.user !== user) throw fail('belongs to another user');
  } catch (error) {
    if (error instanceof StateUnreadableError) throw error;
    throw fail('is not valid JSON', error);
  }
  const sealed = Buffer.from(envelope.sealed, 'base64');
  if (sealed.length < TAG_BYTES) throw fail('is truncated');
  let plaintext: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', keys.stateKey, Buffer.from(envelope.nonce, 'base64'));
    decipher.setAAD(aadFor(user));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    plaintext = Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]);
  } catch (error) {
    throw fail('failed authentication (tampered, copied from another user, or sealed with another key)', error);
  }
  try {
    const parsed = v.safeParse(UserStateSchema, JSON.parse(plaintext.toString('utf8')));
    if (!parsed.success) throw fail(`has invalid content: ${describeIssues(parsed.issues, '')}`);
    if (parsed.output.user !== user) throw fail('belongs to another user');
    return parsed.output;
  } catch (error) {
    if (error instanceof StateUnreadableError) throw error;
    throw fail('has content that is not JSON', error);
  } finally {
    plaintext.fill(0);
  }
}

/** File name for a user: sha256 of the name, so any name maps to a fixed, safe path. */
export function stateFileName(user: string): string {
  return `${createHash('sha256').update(user, 'utf8').digest('hex')}.state`;
}

export interface UnreadableEntry {
  readonly file: string;
  readonly reason: string;
}

export class UserStateStore {
  constructor(
    readonly directory: string,
    private readonly keys: () => Promise<SealingKeys>,
  ) {}

  fileFor(user: string): string {
    return path.join(this.directory, stateFileName(user));
  }

  /** The user's state, or null when they have none. Throws StateUnreadableError or keystore errors. */
  async read(user: string): Promise<UserState | null> {
    const file = this.fileFor(user);
    let bytes: Buffer;
    try {
      bytes = await readCheckedFile(file, { owners: [process.getuid?.() ?? 0], forbiddenModeBits: 0o077 }, MAX_STATE_FILE_BYTES);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new StateUnreadableError(file, `state file ${file} for user ${JSON.stringify(user)} cannot be read: ${(error as Error).message}`, { cause: error });
    }
    return openUserState(bytes, user, await this.keys(), file);
  }

  /** Seals and writes durably; returns once the new state is on disk. */
  async write(state: UserState): Promise<void> {
    const sealed = sealUserState(state, await this.keys());
    await writeFileDurably(this.fileFor(state.user), sealed);
  }

  async remove(user: string): Promise<boolean> {
    try {
      await fs.unlink(this.fileFor(user));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }

  /** Renames the user's file aside (`*.corrupt-<time>`) so they can start afresh. */
  async discard(user: string, nowMs: number): Promise<boolean> {
    const file = this.fileFor(user);
    try {
      await fs.rename(file, `${file}.corrupt-${new Date(nowMs).toISOString().replace(/[:.]/g, '-')}`);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }

  /** Every state file's user name needs decrypting, so listing reads each file once. */
  async list(): Promise<{ states: UserState[]; unreadable: UnreadableEntry[] }> {
    const keys = await this.keys();
    const states: UserState[] = [];
    const unreadable: UnreadableEntry[] = [];
    for (const name of (await fs.readdir(this.directory)).filter((entry) => entry.endsWith('.state')).sort()) {
      const file = path.join(this.directory, name);
      try {
        const bytes = await readCheckedFile(file, { owners: [process.getuid?.() ?? 0], forbiddenModeBits: 0o077 }, MAX_STATE_FILE_BYTES);
        const user = envelopeUser(bytes);
        if (user === null || stateFileName(user) !== name) throw new Error(`state file ${file} does not name its user or is stored under another user's name`);
        states.push(openUserState(bytes, user, keys, file));
      } catch (error) {
        unreadable.push({ file, reason: (error as Error).message });
      }
    }
    return { states, unreadable };
  }

  /** Removes temp files a crash left between write and rename (they never hold the live state). */
  async removeStaleTempFiles(): Promise<number> {
    const stale = (await fs.readdir(this.directory)).filter((entry) => entry.startsWith('.') && entry.includes('.state.tmp-'));
    await Promise.all(stale.map((entry) => fs.unlink(path.join(this.directory, entry)).catch(() => undefined)));
    return stale.length;
  }

  async hasAnyState(): Promise<boolean> {
    try {
      return (await fs.readdir(this.directory)).some((entry) => entry.endsWith('.state'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }
}

/** The user an envelope names (authenticated only later, by openUserState). */
function envelopeUser(bytes: Uint8Array): string | null {
  try {
    const user = (JSON.parse(Buffer.from(bytes).toString('utf8')) as { user?: unknown }).user;
    return typeof user === 'string' ? user : null;
  } catch {
    return null;
  }
}
