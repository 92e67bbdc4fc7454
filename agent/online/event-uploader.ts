/**
 * Offline unlocks reach the Control Center's audit (docs/online-protocol.md "Events"): the
 * agent sends its audit log from where it last stopped, in batches, when the CC answers. The
 * CC drops ids it already has, so a retry after a crash never duplicates anything.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { ownedByThisProcess } from '../../platform/secure-path.js';
import path from 'node:path';
import * as v from 'valibot';
import { EventSchema, MAX_EVENTS_PER_REQUEST } from '../../protocol/online/http-bodies.js';
import { rotatedAuditFile } from '../state/audit-log.js';
import { writeFileDurably } from '../../platform/durable-file.js';
import { JsonFileError, readJsonFile } from '../../platform/json-file.js';
import type { OnlineContext } from './online-context.js';

export const EVENTS_OFFSET_FILE = 'events-uploaded.json';
const MAX_BATCH_BYTES = 256 * 1024;
type Event = v.InferOutput<typeof EventSchema>;

const AuditLineSchema = v.object({
  id: v.string(),
  time: v.string(),
  event: v.string(),
  user: v.string(),
  result: v.string(),
  reason: v.nullable(v.string()),
  context: v.nullable(v.string()),
  repeated: v.optional(v.number()),
  since: v.optional(v.string()),
});

function toEvent(line: string): Event | null {
  try {
    const parsed = v.safeParse(AuditLineSchema, JSON.parse(line));
    if (!parsed.success) return null;
    const entry = parsed.output;
    // Checked with the CC's own schema: one odd line must never block the whole queue.
    const counted =
      entry.repeated !== undefined ? { repeated: entry.repeated, since: Date.parse(entry.since ?? entry.time) } : {};
    const event = v.safeParse(EventSchema, {
      id: entry.id,
      time: Date.parse(entry.time),
      type: entry.event,
      user: entry.user,
      result: entry.result,
      reason: entry.reason,
      context: entry.context,
      ...counted,
    });
    return event.success ? event.output : null;
  } catch {
    return null;
  }
}

/**
 * How far the audit has reached the Control Center: a byte offset into the file whose first line
 * has this id (an inode number would be reused once rotation deletes the file it named).
 */
interface Position {
  readonly offset: number;
  /** null: an empty file, or a position saved before rotation existed (an offset into whatever FILE is now). */
  readonly first: string | null;
}

const PositionSchema = v.object({
  offset: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
  first: v.optional(v.nullable(v.pipe(v.string(), v.maxLength(64)))),
});
/** The first line's id is within its first bytes (audit-log.ts writes it first). */
const FIRST_ID = /^\{"id":"([A-Za-z0-9_-]{1,60})"/;

export class EventUploader {
  #position: Position | null = null;
  #busy = false;

  constructor(
    private readonly ctx: OnlineContext,
    private readonly auditFile: string,
    private readonly stateDir: string,
  ) {}

  async #loadPosition(): Promise<Position> {
    if (this.#position !== null) return this.#position;
    try {
      const saved = await readJsonFile(
        path.join(this.stateDir, EVENTS_OFFSET_FILE),
        PositionSchema,
        ownedByThisProcess(0o022),
        1024,
      );
      this.#position = { offset: saved.offset, first: saved.first ?? null };
    } catch (error) {
      // Missing (nothing sent yet) or unreadable: send from the start; the CC drops ids it has.
      if (!(error instanceof JsonFileError && error.problem === 'missing'))
        this.ctx.log.warn('events.offset-unreadable', { file: EVENTS_OFFSET_FILE, error: error as Error });
      this.#position = { offset: 0, first: null };
    }
    return this.#position;
  }

  /** Sends what is new; returns how many events went. Safe to call often (one run at a time). */
  async upload(): Promise<number> {
    if (this.#busy) return 0;
    this.#busy = true;
    try {
      let sent = 0;
      for (;;) {
        const position = await this.#loadPosition();
        const { events, next } = this.#read(position);
        if (events.length > 0)
          await this.ctx.link.call('POST', '/v1/workstation/events', { events }, v.unknown(), 10_000);
        // Lines that were not events (skipped) still count as read.
        if (next.offset !== position.offset || next.first !== position.first) await this.#savePosition(next);
        sent += events.length;
        if (events.length === 0) return sent;
      }
    } finally {
      this.#busy = false;
    }
  }

  /**
   * The next batch from `at`. When FILE was rotated since (docs/state-files.md "Audit log"), the
   * rest of the old file (now FILE.1) goes first; if that is gone too (rotated twice while the
   * CC was away), what it held is lost to the CC and FILE is read from its start.
   */
  #read(at: Position): { events: Event[]; next: Position } {
    const fd = openQuietly(this.auditFile);
    try {
      const first = fd === null ? null : firstId(fd);
      if (fd !== null && (at.first === null || at.first === first)) return readBatch(fd, { offset: at.offset, first });
      // FILE is another file now (or not there yet): the one we were reading became FILE.1.
      const rest = this.#readRotated(at);
      if (rest !== null && (rest.events.length > 0 || rest.next.offset !== at.offset)) return rest;
      if (fd === null) return { events: [], next: at };
      if (rest === null)
        this.ctx.log.warn('events.rotated-away', {
          file: this.auditFile,
          note: 'audit lines were rotated twice before they reached the Control Center',
        });
      return readBatch(fd, { offset: 0, first });
    } finally {
      if (fd !== null) closeSync(fd);
    }
  }

  /** The next batch of FILE.1 when it is the file `at` points into, else null. */
  #readRotated(at: Position): { events: Event[]; next: Position } | null {
    const fd = openQuietly(rotatedAuditFile(this.auditFile));
    if (fd === null) return null;
    try {
      return firstId(fd) === at.first ? readBatch(fd, at) : null;
    } finally {
      closeSync(fd);
    }
  }

  async #savePosition(position: Position): Promise<void> {
    await writeFileDurably(path.join(this.stateDir, EVENTS_OFFSET_FILE), Buffer.from(`${JSON.stringify(position)}\n`));
    this.#position = position;
  }
}

/** The id of the file's first line, or null while it has none. */
function firstId(fd: number): string | null {
  const head = Buffer.alloc(96);
  const read = readSync(fd, head, 0, head.length, 0);
  return FIRST_ID.exec(head.subarray(0, read).toString('latin1'))?.[1] ?? null;
}

function openQuietly(file: string): number | null {
  try {
    return openSync(file, 'r');
  } catch {
    return null;
  }
}

/** Complete lines from `at`, at most one batch; a file shorter than the offset starts over. */
function readBatch(fd: number, at: Position): { events: Event[]; next: Position } {
  const size = fstatSync(fd).size;
  const start = size < at.offset ? 0 : at.offset;
  const buffer = Buffer.alloc(Math.min(MAX_BATCH_BYTES, size - start));
  const read = readSync(fd, buffer, 0, buffer.length, start);
  const text = buffer.subarray(0, read).toString('utf8');
  const lastNewline = text.lastIndexOf('\n');
  if (lastNewline < 0) return { events: [], next: { ...at, offset: start } };
  const events: Event[] = [];
  let end = start;
  for (const line of text.slice(0, lastNewline + 1).split('\n')) {
    if (line === '') continue;
    if (events.length === MAX_EVENTS_PER_REQUEST) break;
    end += Buffer.byteLength(line) + 1;
    const event = toEvent(line);
    if (event) events.push(event);
  }
  return { events, next: { ...at, offset: end } };
}
