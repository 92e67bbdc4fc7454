/**
 * What a suite starts, stopped after its tests whether they pass or fail: each thing by its own
 * stop (a process by the PID it started), newest first, every one even when another's stop throws.
 * One call registers the suite's whole teardown; a test that starts something registers it as it goes.
 */
import { afterAll, beforeAll } from 'vitest';

interface Entry {
  readonly thing: unknown;
  readonly stop: () => unknown;
}

export class StopStack {
  readonly #entries: Entry[] = [];

  /** Stops `thing` with `stop` when the stack is stopped; returns `thing`. */
  stop<T>(thing: T, stop: (thing: T) => unknown): T {
    this.#entries.push({ thing, stop: () => stop(thing) });
    return thing;
  }

  /** Runs `action` when the stack is stopped (a user to remove, a log to keep). */
  defer(action: () => unknown): void {
    this.#entries.push({ thing: action, stop: action });
  }

  /** Stops `thing` now, the way the stack would have, and not again at the end. */
  async stopNow(thing: unknown): Promise<void> {
    const index = this.#entries.findLastIndex((entry) => entry.thing === thing);
    if (index < 0) throw new Error('stopNow: nothing of that was started on this stack');
    await this.#entries.splice(index, 1)[0]!.stop();
  }

  /** Stops everything, newest first; throws what failed once all have had their turn. */
  async stopAll(): Promise<void> {
    const failures: unknown[] = [];
    for (let entry = this.#entries.pop(); entry; entry = this.#entries.pop()) {
      try {
        await entry.stop();
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) throw new AggregateError(failures, `${failures.length} stops failed`);
  }
}

/** A StopStack emptied after all the tests of the file (or describe) that calls this. */
export function stopAfterAll(timeoutMs = 120_000): StopStack {
  const stack = new StopStack();
  afterAll(() => stack.stopAll(), timeoutMs);
  return stack;
}

/**
 * What `start` starts before all the tests of the file (or describe) that calls this, its parts
 * stopped after them by `stack`: the returned object holds `start`'s fields once the tests run.
 */
export function startBeforeAll<T extends object>(
  start: (stack: StopStack) => Promise<T>,
  timeoutMs = 120_000,
): T & { readonly stack: StopStack } {
  const stack = stopAfterAll();
  const started = { stack } as T & { readonly stack: StopStack };
  beforeAll(async () => {
    Object.assign(started, await start(stack));
  }, timeoutMs);
  return started;
}
