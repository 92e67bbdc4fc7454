/**
 * Runs `latchkey ble …` and `latchkey phone … ble …` as separate Node processes on the built
 * code (dist/), as an engineer runs them. Builds dist/ first when it is older than the sources
 * the Bluetooth commands are made of.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { latchkeyCommand } from '../../cli/agent-process.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const BUILT_CLI = join(ROOT, 'dist/cli/main.js');
const SOURCES = ['ble', 'cli', 'phone', 'protocol', 'agent'];

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Makes sure dist/ is at least as new as the sources (npm test builds first; a lone vitest run may not). */
export function ensureBuilt(): void {
  const newest = Math.max(...SOURCES.map((dir) => newestSource(join(ROOT, dir))));
  if (existsSync(BUILT_CLI) && statSync(BUILT_CLI).mtimeMs >= newest) return;
  try {
    execFileSync(join(ROOT, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'pipe' });
  } catch {
    // tsc emits even when another folder has type errors; what matters is that the CLI was emitted.
  }
  if (!existsSync(BUILT_CLI)) throw new Error('dist/cli/main.js is missing after the build');
}

export interface CliProcess {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
  /** Resolves with the first stdout line. */
  firstLine(): Promise<string>;
}

/** Starts `latchkey ARGS…` (stdin closed); the caller stops it by its pid when it must. */
export function startLatchkey(args: readonly string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  const run = latchkeyCommand(args);
  const child = spawn(run.command, run.args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc: CliProcess = {
    child,
    stdout: '',
    stderr: '',
    exited: new Promise((resolveExit) => child.on('exit', (code) => resolveExit(code))),
    firstLine: () =>
      new Promise((resolveLine, reject) => {
        const check = () => {
          const newline = proc.stdout.indexOf('\n');
          if (newline >= 0) {
            child.stdout!.removeListener('data', check);
            resolveLine(proc.stdout.slice(0, newline));
          }
        };
        child.stdout!.on('data', check);
        child.once('exit', () =>
          reject(new Error(`latchkey ${args.join(' ')} exited before printing a line: ${proc.stderr}`)),
        );
        check();
      }),
  };
  child.stdout!.on('data', (chunk: Buffer) => (proc.stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (proc.stderr += chunk.toString()));
  return proc;
}
