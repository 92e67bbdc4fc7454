/**
 * The body of the Windows password check (password-check.ts), run in a worker thread: LogonUserW
 * can wait on a domain controller, and GetLastError must be read on the thread that called it.
 * It gets the account and the password (UTF-16, NUL-terminated, transferred, not copied) in one
 * message, answers `{ ok, error }` in one message, and wipes what it held.
 */
import { parentPort } from 'node:worker_threads';
import { useWin32 } from './win32.js';

const LOGON32_LOGON_NETWORK = 3;
const LOGON32_PROVIDER_DEFAULT = 0;

export interface CheckRequest {
  readonly name: string;
  readonly domain: string;
  readonly password: Uint8Array;
}

export interface CheckAnswer {
  readonly ok: boolean;
  /** The Win32 error when not ok (0 when the API could not even be loaded). */
  readonly error: number;
  readonly fault?: string;
}

parentPort?.once('message', (request: CheckRequest) => {
  let answer: CheckAnswer;
  try {
    const win = useWin32('pam-unavailable');
    const memory = win.koffi.alloc('uint8_t', request.password.length);
    const view = new Uint8Array(win.koffi.view(memory, request.password.length));
    view.set(request.password);
    request.password.fill(0);
    const token: [number] = [0];
    try {
      const ok =
        win.LogonUserW(request.name, request.domain, memory, LOGON32_LOGON_NETWORK, LOGON32_PROVIDER_DEFAULT, token) !==
        0;
      const error = ok ? 0 : win.GetLastError();
      if (ok) win.CloseHandle(token[0]);
      answer = { ok, error };
    } finally {
      view.fill(0);
      win.koffi.free(memory);
    }
  } catch (error) {
    request.password.fill(0);
    answer = { ok: false, error: 0, fault: (error as Error).message };
  }
  parentPort?.postMessage(answer);
});
