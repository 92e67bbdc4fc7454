/**
 * Verifies a local user's password through PAM before that user may enroll themselves
 * (docs/ipc.md, op enroll, `password`). PAM runs in a child process (password-check-child.ts):
 * a module that sleeps, blocks or crashes never blocks or crashes the agent, and a check that
 * takes longer than `timeoutMs` is killed and answers "unavailable".
 */
import { spawn } from 'node:child_process';
import { toHex } from '../../protocol/bytes.js';
import { randomBytes } from '../../protocol/crypto/hashes.js';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { PasswordCheckOptions, PasswordCheckResult } from '../password-check.js';
import { killProcessTree } from './process-tree.js';
import { CHILD_EXIT, MAX_PASSWORD_BYTES, MAX_REASON_BYTES, isValidPamServiceName } from './password-check-protocol.js';
import { isValidPamUserName, successLine } from './password-check-protocol.js';

export const DEFAULT_PASSWORD_CHECK_TIMEOUT_MS = 5_000;
const MAX_TIMEOUT_MS = 60_000;
const PAM_SERVICE_DIR = '/etc/pam.d';
/** After SIGKILL, how long to wait for the exit before answering anyway. */
const KILL_GRACE_MS = 2_000;
const CHILD_ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' };
const REJECTED = 'The password was not accepted for this account.';

export async function checkPassword(options: PasswordCheckOptions): Promise<PasswordCheckResult> {
  const { service, user, password, timeoutMs = DEFAULT_PASSWORD_CHECK_TIMEOUT_MS } = options;
  if (typeof service !== 'string') throw new TypeError('service must be a string');
  if (typeof user !== 'string') throw new TypeError('user must be a string');
  if (!(password instanceof Uint8Array)) throw new TypeError('password must be a Uint8Array');
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_TIMEOUT_MS) {
    throw new RangeError(`timeoutMs must be an integer 1–${MAX_TIMEOUT_MS}, got ${timeoutMs}`);
  }

  if (process.platform !== 'linux')
    return unavailable(`checking passwords through PAM is only implemented on Linux (this is ${process.platform})`);
  if (!isValidPamServiceName(service)) return unavailable('the PAM service name is not a valid file name');
  // Neither can be a working password or user, so no PAM module needs to see them.
  if (!isValidPamUserName(user)) return rejected();
  if (password.length === 0 || password.length > MAX_PASSWORD_BYTES || password.includes(0)) return rejected();

  // PAM silently falls back to the "other" service when the file is missing.
  const serviceFile = path.join(PAM_SERVICE_DIR, service);
  if (!statSync(serviceFile, { throwIfNoEntry: false })?.isFile()) {
    return unavailable(`the PAM service ${service} is not configured (${serviceFile} does not exist)`);
  }
  const child = childScript();
  if (!existsSync(child)) return unavailable(`the password-check helper ${child} is missing (run npm run build)`);
  return runChild(child, service, user, password, timeoutMs);
}

interface ChildOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  spawnError?: Error;
  /** stderr: one short reason line. */
  reason: string;
  /** stdout: only ever the success line. */
  output: string;
}

function runChild(
  script: string,
  service: string,
  user: string,
  password: Uint8Array,
  timeoutMs: number,
): Promise<PasswordCheckResult> {
  return new Promise((resolve) => {
    const copy = new Uint8Array(password.length);
    copy.set(password);
    const nonce = toHex(randomBytes(16));
    let timedOut = false;
    let settled = false;
    const finish = (outcome: Omit<ChildOutcome, 'timedOut' | 'reason' | 'output'>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      copy.fill(0);
      resolve(decide({ ...outcome, timedOut, reason: stderr.text, output: stdout.text }, nonce, timeoutMs));
    };

    // Its own process group and session: no controlling terminal for PAM modules, and one
    // group to kill on timeout (with the descendants that left it, see process-tree.ts).
    const child = spawn(
      process.execPath,
      [...process.execArgv.filter((flag) => HELPER_V8_FLAGS.has(flag)), script, service, user, nonce],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: CHILD_ENV,
        detached: true,
      },
    );
    const stdout = collect(child.stdout);
    const stderr = collect(child.stderr);
    const timer = setTimeout(() => {
      timedOut = true;
      killChild(child.pid);
      setTimeout(() => finish({ code: null, signal: 'SIGKILL' }), KILL_GRACE_MS).unref();
    }, timeoutMs);

    child.on('error', (error) => finish({ code: null, signal: null, spawnError: error }));
    child.on('close', (code, signal) => finish({ code, signal }));

    // The child may exit before reading (bad arguments); its exit code says why, not EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(copy, () => copy.fill(0));
  });
}

/** Keeps the first MAX_REASON_BYTES characters a child writes. */
function collect(stream: Readable): { text: string } {
  const sink = { text: '' };
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    if (sink.text.length < MAX_REASON_BYTES) sink.text += chunk.slice(0, MAX_REASON_BYTES - sink.text.length);
  });
  return sink;
}

/** The one place a child's exit becomes an answer: success needs exit 0 and the success line. */
function decide(outcome: ChildOutcome, nonce: string, timeoutMs: number): PasswordCheckResult {
  if (outcome.timedOut) return unavailable(`the password check did not finish within ${timeoutMs} ms`);
  if (outcome.spawnError) return unavailable(`cannot start the password-check helper: ${outcome.spawnError.message}`);
  if (outcome.signal !== null) return unavailable(`the password-check helper was killed by ${outcome.signal}`);
  switch (outcome.code) {
    case CHILD_EXIT.ok:
      if (outcome.output === successLine(nonce)) return { ok: true };
      return unavailable('the password-check helper exited without confirming success');
    case CHILD_EXIT.rejected:
      return rejected();
    case CHILD_EXIT.unavailable:
      return unavailable(`PAM could not check the password (${sanitize(outcome.reason) || 'no reason given'})`);
    default:
      return unavailable(`the password-check helper exited with status ${outcome.code}`);
  }
}

function killChild(pid: number | undefined): void {
  if (pid === undefined) return;
  killProcessTree(pid);
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** The compiled child next to this module; from TypeScript sources (tests), the build output. */
/**
 * The helper runs under the agent's own V8 flags: under lite mode (no JIT) it needs no memory
 * that is both writable and executable, so it survives the unit's MemoryDenyWriteExecute=yes.
 */
const HELPER_V8_FLAGS = new Set(['--lite-mode', '--jitless', '--no-expose-wasm', '--single-threaded-gc']);

function childScript(): string {
  const here = fileURLToPath(import.meta.url);
  const directory = path.dirname(here);
  if (here.endsWith('.js')) return path.join(directory, 'password-check-child.js');
  return path.resolve(directory, '..', '..', 'dist', 'platform', 'linux', 'password-check-child.js');
}

function sanitize(reason: string): string {
  return reason.replace(/[^\x20-\x7e]/g, ' ').trim();
}

function rejected(): PasswordCheckResult {
  return { ok: false, code: 'password-rejected', message: REJECTED };
}

function unavailable(message: string): PasswordCheckResult {
  return { ok: false, code: 'password-check-unavailable', message };
}
