#!/usr/bin/env node
// Builds the Windows parts with mingw-w64 into build/windows/ (docs/windows.md §1):
//   latchkey-cp.dll       the credential provider (exports DllGetClassObject and DllCanUnloadNow only)
//   latchkey-service.exe  the service wrapper LatchkeyAgent
//   latchkey-msi.dll      the MSI's custom action
//   cp-harness.exe        the test harness that plays LogonUI
// `npm run build:windows` (or `node native/windows/build-windows.mjs --out DIR`: the tests build
// into their own directories). A missing cross compiler is an error naming the Debian package.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const here = join(root, 'native', 'windows');
export const WINDOWS_BUILD_DIR = join(root, 'build', 'windows');
export const MINGW_CC = 'x86_64-w64-mingw32-gcc';

// The C sources the PAM module and the provider share: one implementation of docs/ipc.md in C.
// When they move to a shared C library, this is the one line to change.
export const SHARED_C_SOURCES = [join(root, 'native', 'pam', 'ipc-codec.c')];

const FLAGS = [
  '-std=gnu11',
  '-O2',
  '-g0',
  '-Wall',
  '-Wextra',
  '-Werror',
  '-Wno-cast-function-type',
  '-D_WIN32_WINNT=0x0A00',
  '-DWINVER=0x0A00',
  '-DUNICODE',
  '-D_UNICODE',
  '-fstack-protector-strong',
  '-static-libgcc',
  '-Wl,--dynamicbase',
  '-Wl,--nxcompat',
  '-Wl,--high-entropy-va',
  '-s',
];
const source = (...names) => names.map((name) => join(here, name));
const PROVIDER_SOURCES = source(
  'provider.c',
  'tile.c',
  'decide.c',
  'agent-exchange.c',
  'pipe-transport.c',
  'options.c',
  'kerb-logon.c',
  'logon-credential.c',
);

export const TARGETS = [
  {
    output: 'latchkey-cp.dll',
    args: [
      '-shared',
      ...PROVIDER_SOURCES,
      ...SHARED_C_SOURCES,
      join(here, 'latchkey-cp.def'),
      '-lole32',
      '-luuid',
      '-ladvapi32',
      '-lsecur32',
      '-lwtsapi32',
      '-lbcrypt',
      '-l:libssp.a',
    ],
  },
  {
    output: 'latchkey-service.exe',
    args: [...source('latchkey-service.c'), '-ladvapi32', '-lshell32', '-lole32', '-luuid', '-l:libssp.a'],
  },
  {
    output: 'latchkey-msi.dll',
    args: [
      '-shared',
      ...source('msi-actions.c'),
      join(here, 'latchkey-msi.def'),
      '-lmsi',
      '-ladvapi32',
      '-lshell32',
      '-lole32',
      '-luuid',
      '-l:libssp.a',
    ],
  },
  { output: 'cp-harness.exe', args: [...source('cp-harness.c'), '-lole32', '-luuid', '-ladvapi32', '-l:libssp.a'] },
];

export function buildWindows({ out = WINDOWS_BUILD_DIR, quiet = false } = {}) {
  if (spawnSync('sh', ['-c', `command -v ${MINGW_CC}`], { stdio: 'ignore' }).status !== 0) {
    throw new Error(`${MINGW_CC} is missing: apt-get install gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64`);
  }
  mkdirSync(out, { recursive: true });
  for (const target of TARGETS) {
    const run = spawnSync(MINGW_CC, [...FLAGS, '-o', join(out, target.output), ...target.args], {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (run.status !== 0)
      throw new Error(`${target.output} failed to build (${MINGW_CC} exited ${run.status ?? run.signal})`);
    if (!quiet) process.stdout.write(`built ${join(out, target.output)}\n`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--out');
  try {
    buildWindows(at > 0 ? { out: resolve(process.argv[at + 1]) } : {});
  } catch (error) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}
