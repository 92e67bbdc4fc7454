/**
 * Builds what the native tests run: the module itself (native/build-native.mjs) and small C
 * drivers compiled with clang and sanitizers into a temp dir.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildLibraries, type CLibraryFlavour } from '../../../native/c-library.mjs';

export const ROOT = resolve(import.meta.dirname, '..', '..', '..');
export const MODULE_PATH = join(ROOT, 'build', 'Release', 'pam_latchkey.so');
const SANITIZE = ['-fsanitize=address,undefined', '-fno-sanitize-recover=all'];

/** The module's C libraries (native/c-library.mjs) in a flavour, in link order. */
export const cLibraries = (flavour: CLibraryFlavour): string[] => buildLibraries(flavour);

/** The built module; builds it when missing (npm test's pretest normally has). */
export function pamModule(): string {
  if (!existsSync(MODULE_PATH)) {
    execFileSync(process.execPath, [join(ROOT, 'native', 'build-native.mjs'), '--require'], {
      cwd: ROOT,
      stdio: 'inherit',
    });
  }
  return MODULE_PATH;
}

let scratch: string | undefined;
/** A temp dir for this test process, removed when it exits. */
export function scratchDir(): string {
  if (scratch === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-native-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    scratch = dir;
  }
  return scratch;
}

/** Removes this process's scratch dir (call from afterAll: test workers may be killed, not exit). */
export function removeScratchDir(): void {
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
}

/** Compiles C sources with clang into the scratch dir (linking `libraries` after them) and returns the binary's path. */
export function compileC(name: string, sources: string[], flags: string[] = [], libraries: string[] = []): string {
  const output = join(scratchDir(), name);
  execFileSync(
    'clang',
    ['-std=gnu11', '-g', '-O1', '-Wall', '-Wextra', '-Werror', ...flags, '-o', output, ...sources, ...libraries],
    {
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  return output;
}

/** The codec/options driver (test/native/c/codec-cli.c) under ASan and UBSan. */
export function codecCli(): string {
  return compileC('codec-cli', [join(ROOT, 'test/native/c/codec-cli.c')], SANITIZE, cLibraries('test'));
}

export function runJson<T>(binary: string, args: string[], input?: string): T {
  return JSON.parse(execFileSync(binary, args, { encoding: 'utf8', input })) as T;
}
