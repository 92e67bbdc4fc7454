/**
 * Offline unlocks reach the Control Center's audit (docs/online-protocol.md "Events"): the
 * agent sends its audit log from where it last stopped, in batches, when the CC answers. The
 * CC drops ids it already has, so a retry after a crash never duplicates anything.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import * as v from 'valibot';
import { EventSchema, MAX_EVENTS_PER_REQUEST } from '../../protocol/online/messages.js';
import { writeFileDurably } from '../durable-file.js';
import { readCheckedFile } from '../secure-path.js';
import type { OnlineContext } from './context.js';

export const EVENTS_OFFSET_FILE = 'events-uploaded.json';
const MAX_BATCH_BYTES = 256 * 1024;
type Event = v.InferOutput<typeof EventSchema>;

const AuditLineSchema = v.object({
  id: v.string(), time: v.string(), event: v.string(), user: v.string(), result: v.string(),
  reason: v.nullable(v.string()), context: v.nullable(v.string()),
});

function toEvent(line: string): Event | null {
  try {
    const parsed = v.safeParse(AuditLineSchema, JSON.parse(line));
    if (!parsed.success) return null;
    const entry = parsed.output;
    // Checked with the CC's own schema: one odd line must never block the whole queue.
    const event = v.safeParse(EventSchema, { id: entry.id, time: Date.parse(entry.time), type: entry.event, user: entry.user, result: entry.result, reason: entry.reason, context: entry.context });
    return event.success ? event.output : null;
  } catch {
    return null;
  }
}

export class EventUploader {
  #offset: number | null = null;
  #busy = false;

  constructor(
    private readonly ctx: OnlineContext,
    private readonly auditFile: string,
    private readonly stateDir: string,
  ) {}

  async #loadOffset(): Promise<number> {
    if (this.#offset !== null) return this.#offset;
    try {
      const json = JSON.parse((await readCheckedFile(path.join(this.stateDir, EVENTS_OFFSET_FILE), { owners: [process.getuid?.() ?? 0], forbiddenModeBits: 0o022 }, 1024)).toString('utf8')) as { offset?: unknown };
      this.#offset = typeof json.offset === 'number' && Number.isSafeInteger(json.offset) && json.offset >= 0 ? json.offset : 0;
    } catch {
      this.#offset = 0;
    }
    return this.#offset;
  }

  /** Sends what is new; returns how many events went. Safe to call often (one run at a time). */
  async upload(): Promise<number> {
    if (this.#busy) return 0;
    this.#busy = true;
    try {
      let sent = 0;
      for (;;) {
        const offset = await this.#loadOffset();
        const { events, end } = this.#read(offset);
        if (events.length === 0) {
          if (end !== offset) await this.#saveOffset(end); // lines that were not events (skipped) still count as read
          return sent;
        }
        await this.ctx.link.call('POST', '/v1/workstation/events', { events }, v.unknown(), 10_000);
        await this.#saveOffset(end);
        sent += events.length;
      }
    } finally {
      this.#busy = false;
    }
  }

  /** Complete lines from `offset`, at most one batch; a file shorter than the offset (rotated) starts over. */
  #read(offset: number): { events: Event[]; end: number } {
    let fd: number;
    try {
      fd = openSync(this.auditFile, 'r');
    } catch {
      return { events: [], end: offset };
    }
    try {
      const size = fstatSync(fd).size;
      const start = size < offset ? 0 : offset;
      const buffer = Buffer.alloc(Math.min(MAX_BATCH_BYTES, size - start));
      const read = readSync(fd, buffer, 0, buffer.length, start);
      const text = buffer.subarray(0, read).toString('utf8');
      const lastNewline = text.lastIndexOf('\n');
      if (lastNewline < 0) return { events: [], end: start };
      const events: Event[] = [];
      let end = start;
      for (const line of text.slice(0, lastNewline + 1).split('\n')) {
        if (line === '') continue;
        if (events.length === MAX_EVENTS_PER_REQUEST) break;
        end += Buffer.byteLength(line) + 1;
        const event = toEvent(line);
        if (event) events.push(event);
      }
      return { events, end };
    } finally {
      closeSync(fd);
    }
  }

  async #saveOffset(offset: number): Promise<void> {
    await writeFileDurably(path.join(this.stateDir, EVENTS_OFFSET_FILE), Buffer.from(`${JSON.stringify({ offset })}\n`));
    this.#offset = offset;
  }
}
