/**
 * In-process wake-ups for long-polls (docs/online-protocol.md "Long-poll"). A waiter subscribes
 * to topics *before* it reads state, so a change between its read and its wait is never lost.
 * Topics: `workstation:<id>` (its inbox), `device:<id>` (its inbox), `<id>` of an auth request,
 * pairing or pool delivery (its status), `policy` (any settings change).
 */
export interface Subscription {
  /** Resolves at the first publish since the last call (at once if one happened), after `ms`, on abort, or when the bus closes. */
  next(ms: number, signal?: AbortSignal): Promise<void>;
  close(): void;
}

export class EventBus {
  readonly #listeners = new Map<string, Set<() => void>>();
  /** Every live subscription, woken when the bus closes. */
  readonly #closeListeners = new Set<() => void>();
  #closed = false;

  publish(...topics: string[]): void {
    for (const topic of topics) for (const listener of this.#listeners.get(topic) ?? []) listener();
  }

  subscribe(topics: readonly string[]): Subscription {
    let fired = this.#closed;
    let wake: (() => void) | null = null;
    const listener = () => {
      fired = true;
      wake?.();
    };
    for (const topic of topics) {
      const set = this.#listeners.get(topic) ?? new Set();
      set.add(listener);
      this.#listeners.set(topic, set);
    }
    const closeAll = this.#closeListeners;
    closeAll.add(listener);
    return {
      next: (ms, signal) => {
        if (fired || this.#closed || signal?.aborted || ms <= 0) {
          fired = false;
          return Promise.resolve();
        }
        return new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            signal?.removeEventListener('abort', done);
            wake = null;
            fired = false;
            resolve();
          };
          const timer = setTimeout(done, ms);
          signal?.addEventListener('abort', done);
          wake = done;
        });
      },
      close: () => {
        closeAll.delete(listener);
        for (const topic of topics) {
          const set = this.#listeners.get(topic);
          set?.delete(listener);
          if (set?.size === 0) this.#listeners.delete(topic);
        }
      },
    };
  }

  /** Wakes every waiter now and every later one at once: the server is stopping. */
  close(): void {
    this.#closed = true;
    for (const listener of this.#closeListeners) listener();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Topics with at least one waiter (tests check that nothing leaks). */
  get size(): number {
    return this.#listeners.size;
  }
}
