/**
 * Scripts run as another uid (an unprivileged local user, an attacker): a world-readable
 * directory holding the built protocol/ codec and the scripts, and a way to run or start them
 * with that uid. Needs root; the directory goes with the test file's temp dirs.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { makeTempDir, REPO } from './agent-harness.js';
import { collectOutput } from './child-output.js';

export const NOBODY = 65534;

/** A 0755 directory with dist/protocol as ./protocol and each script as NAME.mjs. */
export async function makeScriptDir(scripts: Record<string, string>): Promise<string> {
  if (process.getuid?.() !== 0) throw new Error('running a script as another uid needs root; CI runs npm test as root');
  const protocolDist = path.join(REPO, 'dist/protocol');
  await fs.access(path.join(protocolDist, 'ipc-messages.js')).catch(() => {
    throw new Error('dist/ is missing: run `npm run build` (npm test does it first)');
  });
  const dir = await makeTempDir('latchkey-other-');
  await fs.chmod(dir, 0o755);
  await fs.cp(protocolDist, path.join(dir, 'protocol'), { recursive: true });
  await fs.writeFile(path.join(dir, 'package.json'), '{"type":"module"}');
  for (const [name, source] of Object.entries(scripts)) await fs.writeFile(path.join(dir, `${name}.mjs`), source);
  await promisify(execFile)('chmod', ['-R', 'a+rX', dir]);
  return dir;
}

/** Runs DIR/NAME.mjs as uid (and gid) and returns what it printed. */
export async function runScriptAs(
  uid: number,
  dir: string,
  name: string,
  args: string[],
  timeoutMs = 60_000,
): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [path.join(dir, `${name}.mjs`), ...args], {
    uid,
    gid: uid,
    cwd: dir,
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

export interface RunningScript {
  readonly child: ChildProcess;
  output(): string;
  /** Resolves with the first stdout line that matches. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Stops it by its pid (SIGKILL after 5 s) and waits for the exit. */
  stop(): Promise<void>;
}

/** Starts DIR/NAME.mjs as uid in the background. */
export function startScriptAs(uid: number, dir: string, name: string, args: string[]): RunningScript {
  const child = spawn(process.execPath, [path.join(dir, `${name}.mjs`), ...args], {
    uid,
    gid: uid,
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const printed = collectOutput(child, name);
  return {
    ...printed,
    waitFor: (pattern, timeoutMs = 15_000) =>
      printed.waitForOutput(
        (output) => output.split('\n').find((candidate) => pattern.test(candidate)),
        String(pattern),
        timeoutMs,
      ),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await printed.exited;
      clearTimeout(timer);
    },
  };
}
