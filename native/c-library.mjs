#!/usr/bin/env node
// The PAM module's C sources as static libraries, built from the one list in
// native/pam/sources.gypi (which binding.gyp includes for the module itself), in the flavour each
// user needs: the C tests under ASan and UBSan, the fuzzers with libFuzzer's instrumentation, the
// benchmarks optimised. Each flavour is built once into build/c/<flavour>/ and rebuilt only when a
// source or header is newer; a build goes to a temp dir and is renamed into place, so test
// processes building at the same time never see half a library.
//
//   node native/c-library.mjs FLAVOUR   builds it and prints the libraries' paths (tools/fuzz-pam.sh)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PAM_DIR = join(ROOT, 'native', 'pam');

// sources.gypi is a gyp dict written so that it is also JSON (double quotes, no comments).
const { variables } = JSON.parse(readFileSync(join(PAM_DIR, 'sources.gypi'), 'utf8'));

/** The libraries, in link order (a library before the ones it needs). */
export const LIBRARIES = {
  /** The PAM side: options, the Unix-socket transport, the connection a PAM handle keeps. POSIX. */
  pam_client: variables.latchkey_pam_client_sources,
  /** The IPC frame codec: portable C, no sockets (a mingw-w64 build links it too). */
  codec: variables.latchkey_codec_sources,
};
export const MODULE_SOURCES = variables.latchkey_module_sources;
export const INCLUDE_DIR = PAM_DIR;

const SANITIZE = ['-fsanitize=address,undefined', '-fno-sanitize-recover=all'];
/** Compiler and flags per flavour. */
export const FLAVOURS = {
  /** The C tests' drivers (codec-cli, hold-connections): warnings are errors, sanitizers on. */
  test: { cc: 'clang', flags: ['-std=gnu11', '-g', '-O1', '-Wall', '-Wextra', '-Werror', ...SANITIZE] },
  /** The same without sanitizers, for a helper that runs setuid root (the local-DoS attacker). */
  plain: { cc: 'clang', flags: ['-std=gnu11', '-g', '-O1', '-Wall', '-Wextra', '-Werror'] },
  /** The libFuzzer harnesses (native/pam/fuzz/): coverage instrumentation for the libraries too. */
  fuzz: {
    cc: 'clang',
    flags: ['-std=gnu11', '-g', '-O1', '-fsanitize=fuzzer-no-link,address,undefined', '-fno-sanitize-recover=all'],
  },
  /** The transport's harness: every malloc in the libraries goes through the harness's failing one. */
  'fuzz-malloc': {
    cc: 'clang',
    flags: [
      '-std=gnu11',
      '-g',
      '-O1',
      '-fsanitize=fuzzer-no-link,address,undefined',
      '-fno-sanitize-recover=all',
      '-pthread',
      '-Dmalloc=fuzz_malloc',
    ],
  },
  /** The benchmarks' clients: optimised like the module. */
  bench: { cc: undefined, flags: ['-std=gnu11', '-O2'] },
};

/** cc, gcc or clang, whichever answers first; undefined when there is none. */
export const C_COMPILER = ['cc', 'gcc', 'clang'].find(
  (cc) => spawnSync(cc, ['--version'], { stdio: 'ignore' }).status === 0,
);

function newestInput(sources) {
  const headers = readdirSync(PAM_DIR)
    .filter((name) => name.endsWith('.h'))
    .map((name) => join(PAM_DIR, name));
  return Math.max(
    ...[
      ...sources.map((source) => join(ROOT, source)),
      ...headers,
      fileURLToPath(import.meta.url),
      join(PAM_DIR, 'sources.gypi'),
    ].map((file) => statSync(file).mtimeMs),
  );
}

/** Builds (when stale) and returns the paths of the flavour's libraries, in link order. */
export function buildLibraries(flavour) {
  const spec = FLAVOURS[flavour];
  if (spec === undefined)
    throw new RangeError(`no C library flavour ${flavour} (there are ${Object.keys(FLAVOURS).join(', ')})`);
  const cc = spec.cc ?? C_COMPILER;
  if (cc === undefined) throw new Error('no C compiler (cc, gcc or clang)');
  const directory = join(ROOT, 'build', 'c', flavour);
  return Object.entries(LIBRARIES).map(([name, sources]) => {
    const library = join(directory, `liblatchkey_${name}.a`);
    if (existsSync(library) && statSync(library).mtimeMs >= newestInput(sources)) return library;
    mkdirSync(directory, { recursive: true });
    const work = mkdtempSync(join(directory, `.${name}-`));
    try {
      const objects = sources.map((source) => {
        const object = join(work, `${basename(source, '.c')}.o`);
        execFileSync(cc, [...spec.flags, '-c', '-o', object, join(ROOT, source)], {
          cwd: ROOT,
          stdio: ['ignore', 'inherit', 'inherit'],
        });
        return object;
      });
      const built = join(work, basename(library));
      execFileSync('ar', ['rcs', built, ...objects], { stdio: ['ignore', 'inherit', 'inherit'] });
      renameSync(built, library);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    return library;
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const library of buildLibraries(process.argv[2] ?? 'test')) process.stdout.write(`${library}\n`);
}
