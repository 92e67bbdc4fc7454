/**
 * Per-user state journals on disk (docs/state-files.md "User state journal"): append one
 * sealed snapshot and fdatasync it before the reply; compact by atomic rename now and then.
 * A journal that exists but cannot be read is an error, never "no pools", and is left as is.
 */
import { closeSync, constants, fdatasyncSync, fstatSync, ftruncateSync, lstatSync, openSync } from 'node:fs';
import { promises as fs, writeSync, type BigIntStats } from 'node:fs';
import { toHex, utf8 } from '../../protocol/bytes.js';
import { sha256 } from '../../protocol/crypto/hashes.js';
import path from 'node:path';
import { writeFileDurably } from '../../platform/durable-file.js';
import { ownedByThisProcess, readCheckedFile } from '../../platform/secure-path.js';
import { MAX_JOURNAL_BYTES, StateUnreadableError, encodeJournalHeader, journalUser } from './state-journal.js';
import { parseJournal, sealRecord, type SealingKeys } from './state-journal.js';
import type { UserState } from './user-state.js';
import { withLiveCopies } from './windows-credential.js';

export { StateUnreadableError, deriveSealingKeys, type SealingKeys } from './state-journal.js';

/** Compaction thresholds (docs/state-files.md "Writing is durable before the reply"). */
/** Records are a few hundred bytes (verifiers are carried), so reading 256 of them at start costs a few milliseconds. */
export const COMPACT_AFTER_RECORDS = 256;
export const COMPACT_AFTER_BYTES = 512 * 1024;
const JOURNAL_SUFFIX = '.journal';
/** File names are a sha256 each; remembering them saves two per unlock. */
const FILE_NAME_CACHE_SIZE = 4096;

interface Cached {
  readonly state: UserState;
  readonly records: number;
  /** End of the last whole record: where the next one goes. */
  readonly end: number;
  readonly identity: string;
}

/** File name for a user: sha256 of the name, so any name maps to a fixed, safe path. */
export function stateFileName(user: string): string {
  return `${toHex(sha256(utf8(user)))}${JOURNAL_SUFFIX}`;
}

/** What changes whenever anyone but us writes the file. */
function identityOf(stats: BigIntStats): string {
  return `${stats.ino}:${stats.size}:${stats.mtimeNs}:${stats.ctimeNs}`;
}

export interface UnreadableEntry {
  readonly file: string;
  readonly reason: string;
}

export class UserStateStore {
  readonly #cache = new Map<string, Cached>();
  readonly #rule = ownedByThisProcess(0o077);

  constructor(
    readonly directory: string,
    private readonly keys: () => Promise<SealingKeys>,
  ) {}

  readonly #fileNames = new Map<string, string>();

  fileFor(user: string): string {
    let file = this.#fileNames.get(user);
    if (file === undefined) {
      if (this.#fileNames.size >= FILE_NAME_CACHE_SIZE) this.#fileNames.clear();
      file = path.join(this.directory, stateFileName(user));
      this.#fileNames.set(user, file);
    }
    return file;
  }

  /** The user's state, or null when they have none. Throws StateUnreadableError or keystore errors. */
  async read(user: string): Promise<UserState | null> {
    const file = this.fileFor(user);
    let stats: BigIntStats;
    try {
      stats = lstatSync(file, { bigint: true });
    } catch (error) {
      this.#cache.delete(user);
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new StateUnreadableError(file, `state journal ${file} cannot be examined: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const cached = this.#cache.get(user);
    if (cached !== undefined && cached.identity === identityOf(stats)) return cached.state;
    this.#cache.delete(user);
    let bytes: Buffer;
    try {
      bytes = await readCheckedFile(file, this.#rule, MAX_JOURNAL_BYTES);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new StateUnreadableError(
        file,
        `state journal ${file} for user ${JSON.stringify(user)} cannot be read: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const parsed = parseJournal(bytes, user, await this.keys(), file);
    this.#cache.set(user, {
      state: parsed.state,
      records: parsed.records,
      end: parsed.end,
      identity: identityOf(lstatSync(file, { bigint: true })),
    });
    return parsed.state;
  }

  /**
   * Makes `state` durable: appended and fdatasynced, or (new, long or large journal) written
   * whole and renamed into place. Callers read the user's state first, under the per-user lock.
   */
  async write(written: UserState): Promise<void> {
    // A copy of the Windows password leaves with its holder in the same write (docs/windows.md §6.4):
    // whatever spent a PIN, replaced a pool or unpaired a phone, no copy outlives it.
    const state = withLiveCopies(written);
    const keys = await this.keys();
    const file = this.fileFor(state.user);
    const cached = this.#cache.get(state.user);
    // An appended record may carry verifiers from the one before it; a journal's first record lists them all.
    let record =
      cached === undefined || cached.records >= COMPACT_AFTER_RECORDS ? null : sealRecord(state, keys, cached.state);
    if (cached === undefined || record === null || cached.end + record.length > COMPACT_AFTER_BYTES) {
      record = sealRecord(state, keys);
      const header = encodeJournalHeader(state.user);
      await writeFileDurably(file, Buffer.concat([header, record]));
      this.#cache.set(state.user, {
        state,
        records: 1,
        end: header.length + record.length,
        identity: identityOf(lstatSync(file, { bigint: true })),
      });
      return;
    }
    const fd = openSync(file, constants.O_WRONLY | constants.O_NOFOLLOW);
    try {
      // A torn tail from a crash was never acknowledged: cut it before appending after it.
      if (fstatSync(fd).size !== cached.end) ftruncateSync(fd, cached.end);
      try {
        let written = 0;
        while (written < record.length)
          written += writeSync(fd, record, written, record.length - written, cached.end + written);
        fdatasyncSync(fd);
      } catch (error) {
        try {
          ftruncateSync(fd, cached.end);
        } catch {
          // The torn tail stays; the next read ignores it and the next append cuts it.
        }
        this.#cache.delete(state.user);
        throw error;
      }
      this.#cache.set(state.user, {
        state,
        records: cached.records + 1,
        end: cached.end + record.length,
        identity: identityOf(fstatSync(fd, { bigint: true })),
      });
    } finally {
      closeSync(fd);
    }
  }

  async remove(user: string): Promise<boolean> {
    this.#cache.delete(user);
    try {
      await fs.unlink(this.fileFor(user));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }

  /** Renames the user's journal aside (`*.corrupt-<time>`) so they can start afresh. */
  async discard(user: string, nowMs: number): Promise<boolean> {
    this.#cache.delete(user);
    const file = this.fileFor(user);
    try {
      await fs.rename(file, `${file}.corrupt-${new Date(nowMs).toISOString().replace(/[:.]/g, '-')}`);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }

  /** Every journal, read from disk (an admin listing should see what is on disk now). */
  async list(): Promise<{ states: UserState[]; unreadable: UnreadableEntry[] }> {
    const keys = await this.keys();
    const states: UserState[] = [];
    const unreadable: UnreadableEntry[] = [];
    for (const name of (await fs.readdir(this.directory)).filter((entry) => entry.endsWith(JOURNAL_SUFFIX)).sort()) {
      const file = path.join(this.directory, name);
      try {
        const bytes = await readCheckedFile(file, this.#rule, MAX_JOURNAL_BYTES);
        const user = journalUser(bytes);
        if (user === null || stateFileName(user) !== name)
          throw new Error(`state journal ${file} does not name its user or is stored under another user's name`);
        states.push(parseJournal(bytes, user, keys, file).state);
      } catch (error) {
        unreadable.push({ file, reason: (error as Error).message });
      }
    }
    return { states, unreadable };
  }

  /** Removes temp files a crash left between write and rename (they never hold the live state). */
  async removeStaleTempFiles(): Promise<number> {
    const stale = (await fs.readdir(this.directory)).filter(
      (entry) => entry.startsWith('.') && entry.includes(`${JOURNAL_SUFFIX}.tmp-`),
    );
    await Promise.all(stale.map((entry) => fs.unlink(path.join(this.directory, entry)).catch(() => undefined)));
    return stale.length;
  }

  async hasAnyState(): Promise<boolean> {
    try {
      return (await fs.readdir(this.directory)).some((entry) => entry.endsWith(JOURNAL_SUFFIX));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }
}
