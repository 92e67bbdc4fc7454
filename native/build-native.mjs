#!/usr/bin/env node
// Builds pam_latchkey.so from binding.gyp with node-gyp, offline: node-gyp is pointed at the
// Node headers already on this machine (--nodedir), so it never downloads any.
//
//   node native/build-native.mjs            npm's install hook and `npm run build`: builds when
//                                           a C toolchain and the PAM headers are present,
//                                           otherwise prints one line and exits 0
//   node native/build-native.mjs --require  `npm run build:native`: the same, but a missing
//                                           prerequisite is an error (exit 1)
//
// A compile error is always an error. Output: build/Release/pam_latchkey.so (docs/pam.md).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const required = process.argv.includes('--require');
const PAM_HEADERS = ['/usr/include/security/pam_modules.h', '/usr/include/security/pam_ext.h'];
export const MODULE_PATH = join(root, 'build', 'Release', 'pam_latchkey.so');

function onPath(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function nodeHeadersDir() {
  const candidates = [process.env.npm_config_nodedir, dirname(dirname(process.execPath))];
  return candidates.find((dir) => dir && existsSync(join(dir, 'include', 'node', 'common.gypi')));
}

function nodeGypCommand() {
  const bundled = [
    process.env.npm_config_node_gyp,
    join(
      dirname(dirname(process.execPath)),
      'lib',
      'node_modules',
      'npm',
      'node_modules',
      'node-gyp',
      'bin',
      'node-gyp.js',
    ),
  ].find((file) => file?.endsWith('.js') && existsSync(file));
  if (bundled) return [process.execPath, [bundled]];
  return onPath('node-gyp') ? ['node-gyp', []] : undefined;
}

function missingPrerequisite() {
  if (process.platform !== 'linux') return `PAM modules are built on Linux only (this is ${process.platform})`;
  if (!onPath('cc') || !onPath('make')) return 'no C compiler or make (apt-get install gcc make)';
  if (!PAM_HEADERS.every((file) => existsSync(file)))
    return 'the PAM headers are missing (apt-get install libpam0g-dev)';
  if (!nodeHeadersDir()) return 'no Node headers on this machine for an offline node-gyp build';
  if (!nodeGypCommand()) return 'node-gyp was not found (it ships with npm)';
  return undefined;
}

const missing = missingPrerequisite();
if (missing) {
  process.stdout.write(`pam_latchkey.so was not built: ${missing}; then run npm run build:native\n`);
  process.exit(required ? 1 : 0);
}

const [command, prefix] = nodeGypCommand();
const nodedir = nodeHeadersDir();
const configured = existsSync(join(root, 'build', 'Makefile')) && existsSync(join(root, 'build', 'config.gypi'));
const args = [...prefix, configured ? 'build' : 'rebuild', `--nodedir=${nodedir}`, '--loglevel=warn'];
const run = spawnSync(command, args, {
  cwd: root,
  stdio: ['ignore', 'inherit', 'inherit'],
  env: { ...process.env, npm_config_nodedir: nodedir },
});
if (run.status !== 0 || !existsSync(MODULE_PATH)) {
  process.stderr.write(`pam_latchkey.so failed to build (node-gyp exited ${run.status ?? run.signal})\n`);
  process.exit(1);
}
process.stdout.write(`pam_latchkey.so built: ${MODULE_PATH}\n`);
