/**
 * The password-check seam on Windows: LogonUserW with LOGON32_LOGON_NETWORK (no profile, no
 * interactive-logon right needed) checks a local or domain account's password; the token is
 * closed at once. It runs in a worker thread (password-check-worker.ts) so a domain controller's
 * answer never holds the event loop, and a check that outlives its timeout is ended with its
 * thread. The password crosses as UTF-16, transferred (not copied) to the worker, wiped there.
 *
 * Wine 8's LogonUserW is a stub that accepts every user and every password (docs/windows.md §10):
 * tests under wine cannot prove that a wrong password is refused.
 */
import { Worker } from 'node:worker_threads';
import type { PasswordCheckOptions, PasswordCheckResult } from '../password-check.js';
import type { CheckAnswer, CheckRequest } from './password-check-worker.js';
import { parseAccountName } from './security-descriptor.js';
import { ERROR_LOGON_FAILURE, describeWin32Error } from './win32.js';

const DEFAULT_TIMEOUT_MS = 15_000;
/** Windows refusals that mean "not this password" or "not allowed to sign in", not an outage. */
const REJECTIONS = new Set([ERROR_LOGON_FAILURE, 1327, 1328, 1329, 1330, 1331, 1385, 1909, 1907]);

function unavailable(message: string): PasswordCheckResult {
  return { ok: false, code: 'password-check-unavailable', message };
}

export async function checkPassword(options: PasswordCheckOptions): Promise<PasswordCheckResult> {
  let account: { domain: string | null; name: string };
  try {
    account = parseAccountName(options.user);
  } catch (error) {
    return { ok: false, code: 'password-rejected', message: (error as Error).message };
  }
  const text = new TextDecoder('utf-8', { fatal: false }).decode(options.password);
  const wide = new Uint8Array(new ArrayBuffer((text.length + 1) * 2));
  Buffer.from(wide.buffer).write(text, 'utf16le');
  const request: CheckRequest = { name: account.name, domain: account.domain ?? '.', password: wide };
  const answer = await new Promise<CheckAnswer | string>((resolve) => {
    const worker = new Worker(new URL('./password-check-worker.js', import.meta.url));
    const timer = setTimeout(() => {
      void worker.terminate();
      resolve(`Windows did not answer within ${options.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`);
    }, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    worker.once('message', (reply: CheckAnswer) => {
      clearTimeout(timer);
      void worker.terminate();
      resolve(reply);
    });
    worker.once('error', (error) => {
      clearTimeout(timer);
      resolve(error.message);
    });
    worker.postMessage(request, [wide.buffer]);
  });
  if (wide.byteLength > 0) wide.fill(0); // empty once transferred; wiped here if the transfer never happened
  if (typeof answer === 'string') return unavailable(`the password could not be checked: ${answer}`);
  if (answer.ok) return { ok: true };
  if (answer.fault !== undefined) return unavailable(`the password could not be checked: ${answer.fault}`);
  if (REJECTIONS.has(answer.error))
    return {
      ok: false,
      code: 'password-rejected',
      message: `Windows did not accept that password for ${options.user}`,
    };
  return unavailable(`Windows could not check the password (${describeWin32Error(answer.error)})`);
}
