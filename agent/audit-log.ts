/**
 * The JSON-lines audit log (docs/state-files.md "Audit log"). Entries carry outcomes, never
 * secrets: the entry type has no field a PIN, seed or password could go into. Lines are
 * appended before the reply and fdatasynced in the background at most AUDIT_SYNC_DELAY_MS
 * later, many lines in one sync: a power cut can lose the newest second of lines, never a
 * decision (the state journal is synced before every reply). A sync per line would contend with
 * the journal's own sync on the next unlock's path.
 */
import { closeSync, constants, fdatasync, openSync, writeSync } from 'node:fs';
import { newId } from '../protocol/online/ids.js';
import type { Logger } from './log.js';

export type AuditEvent = 'verify' | 'enroll' | 'unenroll' | 'reset' | 'online-auth' | 'ble-auth' | 'pairing' | 'replenish' | 'recovery-pin';

export interface AuditEntry {
  readonly event: AuditEvent;
  readonly user: string;
  readonly authenticatorId: string | null;
  readonly result: string;
  readonly reason: string | null;
  readonly remaining: number | null;
  readonly context: string | null;
  readonly peer: { readonly pid: number; readonly uid: number };
}

export const AUDIT_SYNC_DELAY_MS = 1_000;

export class AuditLog {
  #fd: number | null = null;
  #timer: NodeJS.Timeout | null = null;
  #inFlight: Promise<void> | null = null;
  #dirty = false;

  constructor(
    readonly file: string,
    private readonly log: Logger,
  ) {}

  /** Appends one line. A failure is logged loudly but never changes a decision already made durable. */
  append(entry: AuditEntry, nowMs: number): void {
    // The id lets the Control Center drop an event it already has (docs/online-protocol.md "Events").
    const line = Buffer.from(`${JSON.stringify({ id: newId('ev'), time: new Date(nowMs).toISOString(), ...entry })}\n`);
    try {
      this.#fd ??= openSync(this.file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
      let written = 0;
      while (written < line.length) written += writeSync(this.#fd, line, written);
      this.#scheduleSync();
    } catch (error) {
      this.log.error('audit.write-failed', { file: this.file, error: error as Error, event: entry.event, user: entry.user, result: entry.result });
      this.#closeQuietly();
    }
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

  /** Syncs what is still unsynced, then closes (agent shutdown). */
  async close(): Promise<void> {
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
