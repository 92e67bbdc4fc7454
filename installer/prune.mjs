// Pruning the production node_modules a package carries (docs/dependencies.md "Packaging"):
// what no code loads at run time goes — documentation, tests, TypeScript sources and
// declarations, source maps, native sources and build leftovers, prebuilt addons for other
// platforms — and every remaining ELF object is stripped. Rules are by position (a package's
// own top-level folders), never by name anywhere: `yaml/dist/doc/` is code.
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  openSync,
  readFileSync,
  readSync,
  closeSync,
  readdirSync,
  rmSync,
} from 'node:fs';
import { join, relative } from 'node:path';

/** Packages npm keeps that nothing loads at run time, with why. */
export const NOT_AT_RUNTIME = {
  typescript: "valibot's optional peer dependency (types only); npm keeps optional peers",
  '@typescript': 'the native half of the typescript package above',
};

const FILE_PATTERNS = [
  /\.(md|markdown|html?)$/i,
  /\.[mc]?ts$/,
  /\.map$/,
  /\.tsbuildinfo$/,
  /^\.(npmignore|eslintrc.*|prettierrc.*|editorconfig|travis\.yml|nycrc.*|gitattributes|gitmodules)$/,
  /^(CHANGELOG|CHANGES|HISTORY)(\..*)?$/i,
  /\.(c|cc|cpp|cxx|h|hh|hpp|gyp|gypi|S|asm|inc|def)$/,
  /^CMakeLists\.txt$/,
];
const TOP_LEVEL_DIRS = new Set([
  'test',
  'tests',
  '__tests__',
  'example',
  'examples',
  'doc',
  'docs',
  'benchmark',
  'benchmarks',
  'coverage',
  'integration',
  'scripts',
  'tools',
  '.github',
  '.vscode',
]);
/** Native sources at a native package's top level (binding.gyp, CMake or cnoke builds). */
const NATIVE_SOURCE_DIRS = new Set(['src', 'deps', 'vendor', 'libusb']);
/** …except where the package loads JavaScript from them (test/installer's load check proves the list). */
const NATIVE_DIRS_WITH_CODE = { koffi: ['src'] };
/** The platform whose prebuilt addons stay (node's `${process.platform}-${process.arch}`). */
const LINUX_X64 = 'linux-x64';

function isNativePackage(dir) {
  return ['binding.gyp', 'CMakeLists.txt', 'cnoke.cjs'].some((file) => existsSync(join(dir, file)));
}

function manifestOf(dir) {
  try {
    return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  } catch {
    return {};
  }
}

const withoutDot = (file) => String(file).replace(/^\.\//, '');

/** A dependency's own command-line tools (package.json `bin`): npm links them into .bin, nothing loads them. */
function removeBins(dir, manifest) {
  const bins = typeof manifest.bin === 'string' ? [manifest.bin] : Object.values(manifest.bin ?? {});
  const main = withoutDot(manifest.main ?? 'index.js');
  for (const bin of bins) if (withoutDot(bin) !== main) rmSync(join(dir, withoutDot(bin)), { force: true });
}

function isElf(file) {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(4);
    return readSync(fd, head, 0, 4, 0) === 4 && head.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  } finally {
    closeSync(fd);
  }
}

/** A package's build/ keeps only build/Release/*.node. */
function pruneBuildDir(build) {
  for (const entry of readdirSync(build)) {
    const full = join(build, entry);
    if (entry !== 'Release') rmSync(full, { recursive: true, force: true });
  }
  const release = join(build, 'Release');
  if (!existsSync(release)) return;
  for (const entry of readdirSync(release)) {
    if (!entry.endsWith('.node') || entry === 'test_extension.node')
      rmSync(join(release, entry), { recursive: true, force: true });
  }
}

/** prebuilds/ keeps only this platform's (glibc) builds. */
function prunePrebuilds(prebuilds, platform) {
  for (const entry of readdirSync(prebuilds)) {
    const full = join(prebuilds, entry);
    if (entry !== platform) rmSync(full, { recursive: true, force: true });
    else
      for (const file of readdirSync(full))
        if (/\.musl\.node$|\.armv\d\.node$/.test(file)) rmSync(join(full, file), { force: true });
  }
}

function prunePackage(dir, removed, platform) {
  const native = isNativePackage(dir);
  const manifest = manifestOf(dir);
  const main = withoutDot(manifest.main ?? 'index.js').split('/')[0];
  removeBins(dir, manifest);
  for (const entry of readdirSync(dir)) {
    const full = join(dir, entry);
    const stats = lstatSync(full);
    if (!stats.isDirectory()) continue;
    if (
      TOP_LEVEL_DIRS.has(entry) ||
      entry.startsWith('.') ||
      (native &&
        NATIVE_SOURCE_DIRS.has(entry) &&
        entry !== main &&
        !NATIVE_DIRS_WITH_CODE[manifest.name]?.includes(entry)) ||
      /^musl_/.test(entry)
    ) {
      rmSync(full, { recursive: true, force: true });
      removed.push(full);
    } else if (entry === 'build') pruneBuildDir(full);
    else if (entry === 'prebuilds') prunePrebuilds(full, platform);
  }
}

/** Walks every file under dir: removes what matches FILE_PATTERNS, returns the ELF objects left. */
function pruneFiles(dir, elves) {
  for (const entry of readdirSync(dir)) {
    const full = join(dir, entry);
    const stats = lstatSync(full);
    if (stats.isDirectory()) {
      if (entry === '.github') rmSync(full, { recursive: true, force: true });
      else pruneFiles(full, elves);
    } else if (stats.isSymbolicLink()) {
      if (!existsSync(full)) rmSync(full, { force: true }); // a link into something pruned
    } else if (FILE_PATTERNS.some((pattern) => pattern.test(entry)) && !/^LICEN[CS]E/i.test(entry)) {
      rmSync(full, { force: true });
    } else {
      // Nothing in node_modules is run as a program: addons are loaded, scripts are read by node.
      chmodSync(full, 0o644);
      if (stats.size > 4 && isElf(full)) elves.push(full);
    }
  }
}

function packageDirs(modules) {
  const dirs = [];
  for (const entry of readdirSync(modules)) {
    if (entry.startsWith('.')) continue;
    const full = join(modules, entry);
    if (entry.startsWith('@')) for (const scoped of readdirSync(full)) dirs.push(join(full, scoped));
    else dirs.push(full);
  }
  for (const dir of [...dirs])
    if (existsSync(join(dir, 'node_modules'))) dirs.push(...packageDirs(join(dir, 'node_modules')));
  return dirs;
}

/** Prunes `modules` (an app's node_modules) for `platform` in place; returns the ELF objects it stripped. */
export function pruneNodeModules(modules, platform = LINUX_X64) {
  for (const name of Object.keys(NOT_AT_RUNTIME)) rmSync(join(modules, name), { recursive: true, force: true });
  for (const entry of ['.bin', '.package-lock.json', '.cache'])
    rmSync(join(modules, entry), { recursive: true, force: true });
  const removed = [];
  for (const dir of packageDirs(modules))
    if (existsSync(join(dir, 'package.json'))) prunePackage(dir, removed, platform);
  const elves = [];
  pruneFiles(modules, elves);
  if (elves.length > 0)
    execFileSync('strip', ['--strip-unneeded', '--remove-section=.comment', '--remove-section=.note', ...elves]);
  return elves.map((file) => relative(modules, file));
}
