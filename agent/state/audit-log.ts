/**
 * The JSON-lines audit log (docs/state-files.md "Audit log"). Entries carry outcomes, never
 * secrets: the entry type has no field a PIN, seed or password could go into. Lines are
 * appended before the reply and fdatasynced in the background at most AUDIT_SYNC_DELAY_MS
 * later, many lines in one sync: a power cut can lose the newest second of lines, never a
 * decision (the state journal is synced before every reply). A sync per line would contend with
 * the journal's own sync on the next unlock's path.
 *
 * Bounded (docs/security.md "Filling the disk"): of a refusal repeated by the same uid about the
 * same user, the first AUDIT_WRITTEN_PER_RUN in AUDIT_COALESCE_MS are written as they come, the
 * rest counted, and one `repeated` line at the end of the window says how many more came; the
 * file is rotated to FILE.1 at AUDIT_MAX_BYTES, so the audit never holds much more than twice
 * that on disk.
 */
import { closeSync, constants, fdatasync, fdatasyncSync, fstatSync, openSync, renameSync, writeSync } from 'node:fs';
import type { AccountId } from '../../platform/ipc-transport.js';
import { newId } from '../../protocol/online/ids.js';
import type { Logger } from '../../platform/log.js';

export type AuditEvent =
  | 'verify'
  | 'enroll'
  | 'unenroll'
  | 'reset'
  | 'online-auth'
  | 'ble-auth'
  | 'pairing'
  | 'replenish'
  | 'recovery-pin'
  | 'credential-capture'
  | 'credential-refused';

export interface AuditEntry {
  readonly event: AuditEvent;
  readonly user: string;
  readonly authenticatorId: string | null;
  readonly result: string;
  readonly reason: string | null;
  readonly remaining: number | null;
  readonly context: string | null;
  readonly peer: { readonly pid: number; readonly uid: AccountId };
}

export const AUDIT_SYNC_DELAY_MS = 1_000;
export const AUDIT_MAX_BYTES = 8 * 1024 * 1024;
export const AUDIT_COALESCE_MS = 60_000;
export const AUDIT_WRITTEN_PER_RUN = 5;
/** Results that are not refusals: each is written as it happens. */
const SUCCESSES: ReadonlySet<string> = new Set(['accepted', 'ok', 'started']);

/** A run of identical refusals: `written` of them were written; `count` more came since `sinceMs`. */
interface Run {
  readonly startMs: number;
  written: number;
  count: number;
  sinceMs: number;
  lastMs: number;
  last: AuditEntry;
}

export function rotatedAuditFile(file: string): string {
  return `${file}.1`;
}

export class AuditLog {
  #fd: number | null = null;
  #size = 0;
  #timer: NodeJS.Timeout | null = null;
  #inFlight: Promise<void> | null = null;
  #dirty = false;
  readonly #runs = new Map<string, Run>();
  readonly #runTimer: NodeJS.Timeout;

  constructor(
    readonly file: string,
    private readonly log: Logger,
    private readonly maxBytes = AUDIT_MAX_BYTES,
    private readonly coalesceMs = AUDIT_COALESCE_MS,
    private readonly now: () => number = Date.now,
  ) {
    this.#runTimer = setInterval(() => this.#endRuns(this.now(), false), Math.max(1_000, coalesceMs / 4)).unref();
  }

  /** Appends one line (or counts it into a run of identical refusals). A failure is logged loudly but never changes a decision already made durable. */
  append(entry: AuditEntry, nowMs: number): void {
    if (SUCCESSES.has(entry.result)) {
      this.#write(entry, nowMs);
      return;
    }
    const key = JSON.stringify([entry.event, entry.user, entry.result, entry.reason, entry.peer.uid]);
    const run = this.#runs.get(key);
    if (run !== undefined && nowMs - run.startMs < this.coalesceMs && nowMs >= run.startMs) {
      if (run.written < AUDIT_WRITTEN_PER_RUN) {
        run.written += 1;
        this.#write(entry, nowMs);
        return;
      }
      if (run.count === 0) run.sinceMs = nowMs;
      run.count += 1;
      run.lastMs = nowMs;
      run.last = entry;
      return;
    }
    if (run !== undefined) this.#writeRun(run);
    this.#write(entry, nowMs);
    this.#runs.set(key, { startMs: nowMs, written: 1, count: 0, sinceMs: nowMs, lastMs: nowMs, last: entry });
  }

  /** Writes the count of each run whose window is over (all of them when `all`). */
  #endRuns(nowMs: number, all: boolean): void {
    for (const [key, run] of this.#runs) {
      if (!all && nowMs - run.startMs < this.coalesceMs) continue;
      this.#writeRun(run);
      this.#runs.delete(key);
    }
  }

  #writeRun(run: Run): void {
    if (run.count === 0) return;
    this.#write(run.last, run.lastMs, { repeated: run.count, since: new Date(run.sinceMs).toISOString() });
    run.count = 0;
  }

  #write(entry: AuditEntry, nowMs: number, extra?: { repeated: number; since: string }): void {
    // The id lets the Control Center drop an event it already has (docs/online-protocol.md "Events").
    const line = Buffer.from(
      `${JSON.stringify({ id: newId('ev'), time: new Date(nowMs).toISOString(), ...entry, ...extra })}\n`,
    );
    try {
      this.#open();
      // Not while a background sync holds the descriptor: the file may then exceed the bound by one second of lines.
      if (this.#size > 0 && this.#size + line.length > this.maxBytes && this.#inFlight === null) this.#rotate();
      const fd = this.#open();
      let written = 0;
      while (written < line.length) written += writeSync(fd, line, written);
      this.#size += line.length;
      this.#scheduleSync();
    } catch (error) {
      this.log.error('audit.write-failed', {
        file: this.file,
        error: error as Error,
        event: entry.event,
        user: entry.user,
        result: entry.result,
      });
      this.#closeQuietly();
    }
  }

  #open(): number {
    if (this.#fd === null) {
      this.#fd = openSync(
        this.file,
        constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW,
        0o600,
      );
      this.#size = fstatSync(this.#fd).size;
    }
    return this.#fd;
  }

  /** FILE → FILE.1 (replacing the older one), synced first; the next write opens a new FILE. */
  #rotate(): void {
    if (this.#fd !== null) {
      fdatasyncSync(this.#fd);
      this.#closeQuietly();
    }
    renameSync(this.file, rotatedAuditFile(this.file));
    this.log.info('audit.rotated', { file: this.file, to: rotatedAuditFile(this.file), maxBytes: this.maxBytes });
    this.#size = 0;
  }

  /** Syncs what was written AUDIT_SYNC_DELAY_MS from now, one sync at a time. */
  #scheduleSync(): void {
    this.#dirty = true;
    if (this.#timer !== null || this.#inFlight !== null || this.#fd === null) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#sync();
    }, AUDIT_SYNC_DELAY_MS).unref();
  }

  #sync(): void {
    const fd = this.#fd;
    if (fd === null) return;
    this.#dirty = false;
    this.#inFlight = new Promise<void>((resolve) => {
      fdatasync(fd, (error) => {
        this.#inFlight = null;
        if (error) this.log.error('audit.sync-failed', { file: this.file, error });
        resolve();
        if (this.#dirty) this.#scheduleSync();
      });
    });
  }

  /** Writes the counts still open, syncs what is still unsynced, then closes (agent shutdown). */
  async close(): Promise<void> {
    clearInterval(this.#runTimer);
    this.#endRuns(this.now(), true);
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#inFlight;
    if (this.#dirty) this.#sync();
    await this.#inFlight;
    this.#closeQuietly();
  }

  #closeQuietly(): void {
    if (this.#fd === null) return;
    try {
      closeSync(this.#fd);
    } catch {
      // already closed
    }
    this.#fd = null;
  }
}
