/** Shared by the agent/system suites, which drive the real kernel, NSS and PAM. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Fails (never skips) with a clear message when the suite is not run as root, as CI does. */
export function requireRoot(suite: string): void {
  if (process.getuid?.() !== 0) {
    throw new Error(
      `${suite} must run as root (it creates users, PAM services or processes with other uids); run npm test as root, as CI does`,
    );
  }
}

/** The compiled module under dist/, for code that must run in another process. */
export function distModule(name: string): { path: string; url: string } {
  const file = path.join(REPO, 'dist', 'platform', 'linux', name);
  if (!existsSync(file)) throw new Error(`${file} is missing: run npm run build before these tests (npm test does)`);
  return { path: file, url: pathToFileURL(file).href };
}

/**
 * Runs a user-administration command (useradd, chpasswd, userdel…). Suites run in parallel and
 * these tools refuse to wait for each other's /etc/passwd lock, so a lock failure is retried.
 */
export function administer(command: string, args: string[], input?: string): void {
  for (let attempt = 1; ; attempt++) {
    const run = spawnSync(command, args, { input, encoding: 'utf8' });
    if (run.status === 0) return;
    if (attempt < 100 && /lock/i.test(run.stderr)) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
      continue;
    }
    throw new Error(`${command} ${args.join(' ')} failed (${run.status}): ${run.stderr.trim()}`);
  }
}

/** Removes a test user if it exists (a failed earlier run may have left it). */
export function removeUser(name: string): void {
  if (spawnSync('getent', ['passwd', name]).status === 0) administer('userdel', [name]);
}
