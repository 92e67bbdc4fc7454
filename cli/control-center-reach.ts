/**
 * Whether a Control Center answers, and why not in words ("nothing listens there" rather than
 * "connect ECONNREFUSED 127.0.0.1:1"): for `latchkey admin` and `latchkey doctor`.
 */
import { nodeFetch } from '../platform/node-fetch.js';

const BECAUSE: Partial<Record<string, string>> = {
  ECONNREFUSED: 'nothing listens there',
  ENOTFOUND: 'its host name is unknown',
  EAI_AGAIN: 'its host name cannot be looked up now',
  ECONNRESET: 'the connection was cut',
  EHOSTUNREACH: 'no route to that host',
  ENETUNREACH: 'no route to that network',
};

/** Why a request to the Control Center got no answer, from the transport's error. */
export function whyUnreachable(cause: unknown): string {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code ?? '';
  if (BECAUSE[code]) return BECAUSE[code];
  if (/CERT|SIGNATURE/.test(code)) return `its TLS certificate is not trusted (${code})`;
  return (cause as Error | undefined)?.message ?? 'no answer';
}

/** One GET of the Control Center's front page: any HTTP answer means it is reachable from here. */
export async function probeControlCenter(
  url: string,
  timeoutMs: number,
): Promise<{ answered: true } | { answered: false; problem: string }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    await nodeFetch(new URL('/', url).toString(), { method: 'GET', headers: {}, signal: controller.signal });
    return { answered: true };
  } catch (error) {
    return {
      answered: false,
      problem: controller.signal.aborted ? `no answer within ${timeoutMs} ms` : whyUnreachable(error),
    };
  } finally {
    clearTimeout(timer);
  }
}
