/**
 * The JSON-lines audit log (docs/state-files.md "Audit log"). Entries carry outcomes, never
 * secrets: the entry type has no field a PIN, seed or password could go into.
 */
import { appendLineDurably } from './durable-file.js';
import type { Logger } from './log.js';

export interface AuditEntry {
  readonly event: 'verify' | 'enroll' | 'unenroll' | 'reset';
  readonly user: string;
  readonly authenticatorId: string | null;
  readonly result: string;
  readonly reason: string | null;
  readonly remaining: number | null;
  readonly context: string | null;
  readonly peer: { readonly pid: number; readonly uid: number };
}

export class AuditLog {
  constructor(
    readonly file: string,
    private readonly log: Logger,
  ) {}

  /** Appends and fdatasyncs. A failure is logged loudly but never changes a decision already made durable. */
  async append(entry: AuditEntry, nowMs: number): Promise<void> {
    const line = JSON.stringify({ time: new Date(nowMs).toISOString(), ...entry });
    try {
      await appendLineDurably(this.file, line);
    } catch (error) {
      this.log.error('audit.write-failed', { file: this.file, error: error as Error, event: entry.event, user: entry.user, result: entry.result });
    }
  }
}
