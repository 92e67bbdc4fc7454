/**
 * Ownership and mode checks for files and directories that grant access (STYLE.md §10):
 * refused when owned by another uid or writable (or, for secrets, readable) by group/world.
 */
import { constants, promises as fs, type Stats } from 'node:fs';
import path from 'node:path';
import { describeFileError } from './file-errors.js';

export class InsecurePathError extends Error {
  readonly code = 'insecure-path';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = 'InsecurePathError';
  }
}

export interface PathRule {
  /** uids allowed to own it; default: root and the current process's uid. */
  owners?: readonly number[];
  /** Bits that must be clear: 0o022 for "not group/world-writable", 0o077 for secrets. */
  forbiddenModeBits: number;
}

export function trustedOwners(): number[] {
  const uid = process.getuid?.() ?? 0;
  return uid === 0 ? [0] : [0, uid];
}

export function checkStats(target: string, stats: Stats, rule: PathRule): void {
  const owners = rule.owners ?? trustedOwners();
  if (!owners.includes(stats.uid)) {
    throw new InsecurePathError(target, `${target} is owned by uid ${stats.uid}; it must be owned by ${describeOwners(owners)}`);
  }
  const bad = stats.mode & rule.forbiddenModeBits;
  if (bad !== 0) {
    const mode = (stats.mode & 0o7777).toString(8).padStart(4, '0');
    const what = rule.forbiddenModeBits & 0o044 ? 'accessible' : 'writable';
    throw new InsecurePathError(target, `${target} has mode ${mode}: it must not be group- or world-${what} (try chmod ${rule.forbiddenModeBits & 0o044 ? '600/700' : 'go-w'})`);
  }
}

/** Reads a whole file through one descriptor after checking it (no swap between check and read). */
export async function readCheckedFile(file: string, rule: PathRule, maxBytes: number): Promise<Buffer> {
  return (await readCheckedFileWithStats(file, rule, maxBytes)).data;
}

/** readCheckedFile, also returning the stats the checks were made on (for a second, content-dependent rule). */
export async function readCheckedFileWithStats(file: string, rule: PathRule, maxBytes: number): Promise<{ data: Buffer; stats: Stats }> {
  const handle = await fs.open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new InsecurePathError(file, `${file} is not a regular file`);
    checkStats(file, stats, rule);
    if (stats.size > maxBytes) throw new RangeError(`${file} is ${stats.size} bytes, over the limit of ${maxBytes}`);
    const data = await handle.readFile();
    if (data.length > maxBytes) throw new RangeError(`${file} grew over the limit of ${maxBytes} bytes while being read`);
    return { data, stats };
  } finally {
    await handle.close();
  }
}

/**
 * Creates `directory` and any missing parents with exactly `mode` (0700 by default), whatever
 * the umask, then checks the whole chain (checkDirectoryChain).
 */
export async function ensureSecureDirectory(directory: string, rule: PathRule, mode = 0o700): Promise<void> {
  await makeDirectories(directory, mode);
  const stats = await fs.lstat(directory);
  if (!stats.isDirectory()) throw new InsecurePathError(directory, `${directory} is not a directory`);
  checkStats(directory, stats, rule);
  await checkDirectoryChain(directory, rule.owners);
}

/** A directory that cannot be made or used, with the sentence that says why (docs/cli.md). */
export class UnusablePathError extends Error {
  readonly code = 'unusable-path';
  constructor(
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'UnusablePathError';
  }
}

/**
 * `mkdir -p` where every directory it creates gets `mode` exactly (the umask would narrow it).
 * It walks up to the first directory that exists and creates the rest one by one: Node's own
 * recursive mkdir loops forever under /proc, and names no culprit when a parent is a file.
 */
export async function makeDirectories(directory: string, mode: number): Promise<void> {
  const target = path.resolve(directory);
  const missing: string[] = [];
  for (let current = target; ; ) {
    let stats: Stats;
    try {
      stats = await fs.stat(current);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const parent = path.dirname(current);
      if ((code === 'ENOENT' || code === 'ENOTDIR') && parent !== current) {
        missing.push(current);
        current = parent;
        continue;
      }
      throw new UnusablePathError(target, describeFileError(error), { cause: error });
    }
    if (stats.isDirectory()) break;
    throw new UnusablePathError(target, current === target ? `${target} exists and is not a directory` : `cannot create ${target}: ${current} is a file, not a directory`);
  }
  for (const created of missing.reverse()) {
    try {
      await fs.mkdir(created, { mode });
      await fs.chmod(created, mode);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST' && (await fs.stat(created).catch(() => null))?.isDirectory()) continue; // made meanwhile: checked, not changed
      throw new UnusablePathError(target, describeFileError(error), { cause: error });
    }
  }
}

/**
 * Nobody but the trusted owners can swap `directory` or anything above it: every directory from
 * it up to / (symbolic links resolved first) is owned by root or a trusted owner, `directory`
 * itself is not group- or world-writable, and an ancestor is writable by others only with the
 * sticky bit (like /tmp, where others cannot rename what root made).
 */
export async function checkDirectoryChain(directory: string, trusted: readonly number[] = trustedOwners()): Promise<void> {
  const owners = trusted.includes(0) ? trusted : [0, ...trusted];
  const real = await fs.realpath(directory);
  for (let current = real, first = true; ; first = false) {
    const stats = await fs.stat(current);
    if (!stats.isDirectory()) throw new InsecurePathError(current, `${current} is not a directory`);
    if (!owners.includes(stats.uid)) {
      throw new InsecurePathError(current, `${current} is owned by uid ${stats.uid}, so that user could replace what is inside it; ${describeOwners(owners)} must own it (chown root ${current})`);
    }
    const othersMayWrite = (stats.mode & 0o022) !== 0;
    if (othersMayWrite && (first || (stats.mode & 0o1000) === 0)) {
      const mode = (stats.mode & 0o7777).toString(8).padStart(4, '0');
      throw new InsecurePathError(current, `${current} has mode ${mode}: others could replace what is inside it (chmod go-w ${current})`);
    }
    const parent = path.dirname(current);
    if (parent === current) return;
    current = parent;
  }
}

function describeOwners(owners: readonly number[]): string {
  return owners.map((o) => (o === 0 ? 'root' : `uid ${o}`)).join(' or ');
}

/** Why a settings file (config, enroll file) was not used; `missing` only for an absent file. */
export type SettingsFileProblem = 'missing' | 'insecure' | 'invalid';

export class SettingsFileError extends Error {
  constructor(
    readonly problem: SettingsFileProblem,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SettingsFileError';
  }
}

/**
 * Reads a JSON settings file that grants access (STYLE.md §10): its directory must not be
 * group- or world-writable without the sticky bit, the file must be a regular file (not a
 * symbolic link) passing `rule`, at most `maxBytes`, and valid JSON. Returns the parsed value;
 * every refusal is a SettingsFileError naming the file and what to do.
 */
export async function readSettingsFile(file: string, rule: PathRule, maxBytes: number): Promise<unknown> {
  let data: Buffer;
  try {
    const directory = path.dirname(path.resolve(file));
    const dirStats = await fs.stat(directory);
    if ((dirStats.mode & 0o022) !== 0 && (dirStats.mode & 0o1000) === 0) {
      throw new InsecurePathError(directory, `${directory} is group- or world-writable without the sticky bit, so ${file} could be replaced`);
    }
    data = await readCheckedFile(file, rule, maxBytes);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new SettingsFileError('missing', `${file} does not exist`, { cause: error });
    if (error instanceof InsecurePathError) throw new SettingsFileError('insecure', `refusing ${file}: ${error.message}`, { cause: error });
    if (code === 'ELOOP') throw new SettingsFileError('insecure', `refusing ${file}: it is a symbolic link (name the real file)`, { cause: error });
    if (error instanceof RangeError) throw new SettingsFileError('invalid', error.message, { cause: error });
    throw new SettingsFileError('invalid', `cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  try {
    return JSON.parse(data.toString('utf8')) as unknown;
  } catch (error) {
    throw new SettingsFileError('invalid', `${file} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}
