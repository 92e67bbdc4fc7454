/**
 * The latest wall-clock time the agent has seen, kept across restarts in STATE_DIR/clock.json
 * (docs/state-files.md). Pool expiry never uses a time earlier than this, so setting the
 * clock back (in the firmware, while the machine is off) does not revive an expired pool.
 * Delays do not use it: for them a larger "now" would be the unsafe direction.
 */
import * as v from 'valibot';
import { ownedByThisProcess } from '../../platform/secure-path.js';
import { writeFileDurably } from '../../platform/durable-file.js';
import type { Logger } from '../../platform/log.js';
import { JsonFileError, readJsonFile } from '../../platform/json-file.js';

/** How stale the file may get while the agent runs. */
export const FLOOR_PERSIST_INTERVAL_MS = 60_000;

const FloorSchema = v.strictObject({
  format: v.literal('latchkey-clock-floor'),
  version: v.literal(1),
  wallMs: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
});

export class WallClockFloor {
  #floorMs = 0;
  #persistedMs = 0;
  #writing: Promise<void> | null = null;

  constructor(
    private readonly file: string,
    private readonly log: Logger,
  ) {}

  get floorMs(): number {
    return this.#floorMs;
  }

  /** Reads the file; an unreadable file is logged and counts as no floor (the state's own high-water marks remain). */
  async load(): Promise<void> {
    try {
      const floor = await readJsonFile(this.file, FloorSchema, ownedByThisProcess(0o022), 1024);
      this.#floorMs = this.#persistedMs = floor.wallMs;
    } catch (error) {
      if (!(error instanceof JsonFileError && error.problem === 'missing'))
        this.log.warn('clock-floor.unreadable', { file: this.file, error: error as Error });
    }
  }

  /** Raises the floor to `wallMs`; persists in the background when the file is a minute behind. */
  observe(wallMs: number): void {
    if (wallMs <= this.#floorMs) return;
    this.#floorMs = wallMs;
    if (wallMs - this.#persistedMs >= FLOOR_PERSIST_INTERVAL_MS && this.#writing === null) void this.flush();
  }

  async flush(): Promise<void> {
    if (this.#writing) return this.#writing;
    const wallMs = this.#floorMs;
    this.#writing = writeFileDurably(
      this.file,
      Buffer.from(`${JSON.stringify({ format: 'latchkey-clock-floor', version: 1, wallMs })}\n`),
    )
      .then(() => {
        this.#persistedMs = Math.max(this.#persistedMs, wallMs);
      })
      .catch((error: unknown) => this.log.warn('clock-floor.write-failed', { file: this.file, error: error as Error }))
      .finally(() => {
        this.#writing = null;
      });
    return this.#writing;
  }
}
