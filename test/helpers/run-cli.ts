/** Runs the real `latchkey` CLI as a child process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { latchkeyCommand } from '../../cli/agent-process.js';

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runCli(
  args: string[],
  options: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  const run = latchkeyCommand(args);
  return new Promise((resolve, reject) => {
    const child = spawn(run.command, run.args, {
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

export interface BackgroundCli {
  readonly child: ChildProcess;
  /** Standard output and error so far, together. */
  output(): string;
  readonly exited: Promise<number | null>;
  /** SIGTERM, unless it has already ended. */
  stop(): void;
}

/** Starts the real CLI in the background (a command that waits, such as `latchkey pair`). */
export function startCli(args: string[]): BackgroundCli {
  const run = latchkeyCommand(args);
  const child = spawn(run.command, run.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const stop = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  return { child, output: () => out, exited, stop };
}

/** `latchkey status --user U --json` against the agent at `socket`, as the test reads it; a failed run throws. */
export async function statusJson<T>(socket: string, user: string): Promise<T> {
  const run = await runCli(['status', '--user', user, '--json', '--socket', socket]);
  if (run.code !== 0) throw new Error(`status: ${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}
