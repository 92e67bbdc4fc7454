/**
 * A client for the Control Center API (docs/online-protocol.md) used by the agent and the
 * phone. The transport (`fetch`) and the clock are injected, so it runs in Node, in a browser
 * and in tests; every response is validated with its schema and anything unexpected fails
 * closed as an ApiError.
 */
import * as v from 'valibot';
import { ErrorBodySchema, MAX_BODY_BYTES, WIRE_ERROR_CODES } from '../protocol/online/http-bodies.js';
import type { WireErrorCode } from '../protocol/online/http-bodies.js';
import { signRequest } from '../protocol/online/request-signing.js';
import type { CryptoKey } from '../protocol/crypto/webcrypto.js';

export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: Uint8Array; signal?: AbortSignal },
) => Promise<{
  status: number;
  arrayBuffer(): Promise<ArrayBuffer>;
}>;

/** Stable codes (docs/online-protocol.md "Errors") plus the client's own transport failures. */
export type ApiErrorCode = WireErrorCode | 'unreachable' | 'timeout' | 'bad-response';
const SERVER_CODES: ReadonlySet<string> = new Set(WIRE_ERROR_CODES);

export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    readonly status: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ApiError';
  }

  /** True when the Control Center could not be reached or did not answer in time ("offline"). */
  get offline(): boolean {
    return this.code === 'unreachable' || this.code === 'timeout';
  }
}

export interface ApiClientOptions {
  readonly baseUrl: string;
  readonly fetch?: FetchLike;
  readonly now?: () => number;
  /** Signs requests when set (workstation or device key). */
  readonly signer?: { readonly keyId: string; readonly privateKey: CryptoKey };
  /** Admin requests carry this bearer token. */
  readonly adminToken?: string;
  /** More headers for every request with this method (the web console's CSRF token on changes). */
  readonly headers?: (method: string) => Readonly<Record<string, string>>;
}

export interface CallOptions {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

const encoder = new TextEncoder();

export class ApiClient {
  readonly #fetch: FetchLike;
  readonly #now: () => number;

  constructor(private readonly options: ApiClientOptions) {
    this.#fetch = options.fetch ?? (globalThis.fetch as unknown as FetchLike);
    this.#now = options.now ?? Date.now;
  }

  withSigner(signer: ApiClientOptions['signer']): ApiClient {
    return new ApiClient({ ...this.options, signer });
  }

  /** One request; resolves with the validated body, or throws ApiError. */
  async call<S extends v.GenericSchema>(
    method: string,
    path: string,
    body: unknown,
    schema: S,
    call: CallOptions,
  ): Promise<v.InferOutput<S>> {
    const bytes = body === undefined ? new Uint8Array() : encoder.encode(JSON.stringify(body));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.options.signer)
      Object.assign(
        headers,
        await signRequest(
          { method, path, body: bytes },
          this.options.signer.keyId,
          this.options.signer.privateKey,
          this.#now(),
        ),
      );
    if (this.options.adminToken) headers.authorization = `Bearer ${this.options.adminToken}`;
    if (this.options.headers) Object.assign(headers, this.options.headers(method));
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), call.timeoutMs);
    const onAbort = () => controller.abort();
    call.signal?.addEventListener('abort', onAbort);
    let status: number;
    let raw: ArrayBuffer;
    try {
      const response = await this.#fetch(new URL(path, this.options.baseUrl).toString(), {
        method,
        headers,
        ...(body === undefined ? {} : { body: bytes }),
        signal: controller.signal,
      });
      status = response.status;
      raw = await response.arrayBuffer();
    } catch (error) {
      if (controller.signal.aborted)
        throw new ApiError('timeout', 0, `the Control Center did not answer within ${call.timeoutMs} ms`, {
          cause: error,
        });
      throw new ApiError('unreachable', 0, `the Control Center cannot be reached: ${(error as Error).message}`, {
        cause: error,
      });
    } finally {
      clearTimeout(timer);
      call.signal?.removeEventListener('abort', onAbort);
    }
    if (raw.byteLength > MAX_BODY_BYTES * 4)
      throw new ApiError('bad-response', status, 'the Control Center sent an oversized body');
    let json: unknown;
    try {
      json = raw.byteLength === 0 ? null : JSON.parse(new TextDecoder().decode(raw));
    } catch {
      throw new ApiError('bad-response', status, `the Control Center sent a body that is not JSON (HTTP ${status})`);
    }
    if (status >= 400) {
      const parsed = v.safeParse(ErrorBodySchema, json);
      const code =
        parsed.success && SERVER_CODES.has(parsed.output.error.code)
          ? (parsed.output.error.code as ApiErrorCode)
          : 'internal';
      throw new ApiError(code, status, parsed.success ? parsed.output.error.message : `HTTP ${status}`);
    }
    const parsed = v.safeParse(schema, json);
    if (!parsed.success)
      throw new ApiError(
        'bad-response',
        status,
        `the Control Center sent an unexpected ${method} ${path.split('?')[0]} response`,
      );
    return parsed.output;
  }
}
