/** Shared by the agent/system suites, which drive the real kernel, NSS and PAM. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Fails (never skips) with a clear message when the suite is not run as root, as CI does. */
export function requireRoot(suite: string): void {
  if (process.getuid?.() !== 0) {
    throw new Error(`${suite} must run as root (it creates users, PAM services or processes with other uids); run npm test as root, as CI does`);
  }
}

/** The compiled module under dist/, for code that must run in another process. */
export function distModule(name: string): { path: string; url: string } {
  const file = path.join(REPO, 'dist', 'agent', 'system', name);
  if (!existsSync(file)) throw new Error(`${file} is missing: run npm run build before these tests (npm test does)`);
  return { path: file, url: pathToFileURL(file).href };
}
