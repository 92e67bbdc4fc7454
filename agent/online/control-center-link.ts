/**
 * The workstation's connection to its Control Center: signed requests, and the agent's notion
 * of "online" (docs/online-protocol.md "Online for the agent"): the CC answered in the last
 * 30 s, or answers a probe within 1.5 s now. An unreachable or slow CC counts as offline at once.
 */
import type * as v from 'valibot';
import { ApiClient, ApiError, type FetchLike } from '../../platform/api-client.js';
import type { Logger } from '../../platform/log.js';
import type { LoadedIdentity } from './workstation-identity.js';

export const ONLINE_WINDOW_MS = 30_000;
export const PROBE_TIMEOUT_MS = 1_500;

export class ControlCenterLink {
  readonly client: ApiClient;
  #lastAnswerMs = 0;
  #lastProblem: string | null = null;

  constructor(
    readonly loaded: LoadedIdentity,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
    fetch?: FetchLike,
  ) {
    this.client = new ApiClient({
      baseUrl: loaded.identity.url,
      signer: { keyId: loaded.identity.workstationId, privateKey: loaded.privateKey },
      now,
      ...(fetch ? { fetch } : {}),
    });
  }

  get workstationId(): string {
    return this.loaded.identity.workstationId;
  }

  /** True when the CC answered within the online window. */
  get online(): boolean {
    return this.now() - this.#lastAnswerMs < ONLINE_WINDOW_MS;
  }

  /** One signed request; any answer from the CC (even an error status) proves it is reachable. */
  async call<S extends v.GenericSchema>(
    method: string,
    path: string,
    body: unknown,
    schema: S,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<v.InferOutput<S>> {
    try {
      const result = await this.client.call(method, path, body, schema, { timeoutMs, ...(signal ? { signal } : {}) });
      this.#answered();
      return result;
    } catch (error) {
      // Cut short by our own signal (the agent stopping): that says nothing about the Control Center.
      if (signal?.aborted) throw error;
      if (error instanceof ApiError && !error.offline) this.#answered();
      else if (error instanceof ApiError) this.#unreachable(error.message);
      throw error;
    }
  }

  #answered(): void {
    this.#lastAnswerMs = this.now();
    if (this.#lastProblem !== null) {
      this.log.info('control-center.online', { url: this.loaded.identity.url });
      this.#lastProblem = null;
    }
  }

  #unreachable(problem: string): void {
    this.#lastAnswerMs = 0;
    if (this.#lastProblem === null) this.log.warn('control-center.offline', { url: this.loaded.identity.url, problem });
    this.#lastProblem = problem;
  }
}
