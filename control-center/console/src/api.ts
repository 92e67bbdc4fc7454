/**
 * The console's one connection to the Control Center: the shared AdminClient over the browser's
 * fetch, with the session cookie (sent by the browser) and the CSRF token on every change
 * (docs/console.md "Sign-in, sessions and CSRF").
 */
import { AdminClient } from '../../admin-client.js';
import { ApiClient, ApiError, type FetchLike } from '../../../platform/api-client.js';

export const CSRF_HEADER = 'latchkey-csrf';
const TIMEOUT_MS = 15_000;

let csrfToken: string | null = null;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

// fetch must be called on window, not as a method of the client.
const browserFetch: FetchLike = (url, { body, ...init }) =>
  fetch(url, {
    ...init,
    ...(body ? { body: body as Uint8Array<ArrayBuffer> } : {}),
    credentials: 'same-origin',
    cache: 'no-store',
  });

export const admin = new AdminClient(
  new ApiClient({
    baseUrl: location.origin,
    fetch: browserFetch,
    headers: (method): Record<string, string> =>
      method === 'GET' || csrfToken === null ? {} : { [CSRF_HEADER]: csrfToken },
  }),
  TIMEOUT_MS,
);

/** The sentence to show for a failed call. */
export function messageOf(error: unknown): string {
  if (error instanceof ApiError)
    return error.offline ? 'The Control Center cannot be reached; try again in a moment.' : error.message;
  return error instanceof Error ? error.message : String(error);
}

export function isSignedOut(error: unknown): boolean {
  return error instanceof ApiError && error.code === 'unauthenticated';
}
