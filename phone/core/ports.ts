/**
 * What the phone core is given from outside (STYLE.md §9): time, connectivity and storage. The
 * HTTP transport is injected through ApiClient's `fetch`. A web app supplies its own; tests
 * supply fakes that move time by hand.
 */
import type { PhoneState } from './phone-state.js';

export interface Clock {
  /** Wall-clock milliseconds (request timestamps, approvals, pool expiry). */
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason when aborted first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

/**
 * Whether the device has a network at all (a browser's `navigator.onLine`, airplane mode). When
 * it says no, the phone does not try the Control Center; when it says yes, the Control Center
 * answering is what counts as online (R4).
 */
export interface Connectivity {
  hasNetwork(): boolean;
}

export const alwaysConnected: Connectivity = { hasNetwork: () => true };

/**
 * Where the phone state lives (the encrypted vault in the CLI). `update` reads the newest state,
 * lets `change` mutate a private copy, and makes it durable before resolving; when `change`
 * throws nothing is written. Two processes on one store are serialised by the store.
 */
export interface PhoneStore {
  read(): Promise<PhoneState>;
  update<T>(change: (state: PhoneState) => T): Promise<T>;
}

/** A store in memory, for tests and for a web app's session. */
export class MemoryStore implements PhoneStore {
  #state: PhoneState;
  writes = 0;

  constructor(state: PhoneState) {
    this.#state = structuredClone(state);
  }

  async read(): Promise<PhoneState> {
    return structuredClone(this.#state);
  }

  async update<T>(change: (state: PhoneState) => T): Promise<T> {
    const draft = structuredClone(this.#state);
    const result = change(draft);
    this.#state = draft;
    this.writes++;
    return result;
  }
}
