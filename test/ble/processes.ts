/**
 * Runs the ble/cli.ts entry points as separate Node processes on the built code (dist/), as the
 * `latchkey ble …` subcommands will. Builds dist/ first when it is older than ble/.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const BUILT_CLI = join(ROOT, 'dist/ble/cli.js');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Makes sure dist/ble is at least as new as ble/ (npm test builds first; a lone vitest run may not). */
export function ensureBuilt(): void {
  if (existsSync(BUILT_CLI) && statSync(BUILT_CLI).mtimeMs >= newestSource(join(ROOT, 'ble'))) return;
  try {
    execFileSync(join(ROOT, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'pipe' });
  } catch {
    // tsc emits even when another folder has type errors; what matters is that ble/ was emitted.
  }
  if (!existsSync(BUILT_CLI)) throw new Error('dist/ble/cli.js is missing after the build');
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

/** Spawns `node -e` calling one exported function of dist/ble/cli.js with `args`, then exits with its code. */
export function runCliFunction(name: 'runVirtualController' | 'runBlePhone' | 'runBleUnlockTest' | 'runBleScan' | 'runBleDevPairing', args: readonly string[]): CliProcess {
  const script = 'const m = await import(process.argv[1]); process.exit(await m[process.argv[2]](process.argv.slice(3)));';
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, '--', pathToFileURL(BUILT_CLI).href, name, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
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
        child.once('exit', () => reject(new Error(`${name} exited before printing a line: ${proc.stderr}`)));
        check();
      }),
  };
  child.stdout!.on('data', (chunk: Buffer) => (proc.stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (proc.stderr += chunk.toString()));
  return proc;
}
