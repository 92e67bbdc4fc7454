/**
 * The file-access seam (STYLE.md §10): files and directories that grant access are refused when
 * someone other than their trusted owners could have written them (or, for secrets, could read
 * them). A rule is said in POSIX terms — owner uids and mode bits that must be clear — and each OS
 * checks it its own way: Linux reads owner and mode (platform/linux/secure-path.ts); Windows would
 * read the owner SID and the ACL (0o022: nobody else may write; 0o077: nobody else has any access).
 * Reads check the descriptor they read from, so nothing can swap the file between check and read.
 */
import { constants, promises as fs, type Stats } from 'node:fs';
import { InsecurePathError } from './path-errors.js';
import type { AccountId } from './ipc-transport.js';
import { currentPlatform } from './platform.js';
import { currentAccount } from './users.js';

export { InsecurePathError, UnusablePathError } from './path-errors.js';

export interface PathRule {
  /** Accounts allowed to own it; default: root and the current process's account (trustedOwners). */
  owners?: readonly AccountId[];
  /** Bits that must be clear: 0o022 for "not group/world-writable", 0o077 for secrets. */
  forbiddenModeBits: number;
}

/** What each OS implements (platform.ts `access`). */
export interface FileAccess {
  /** Throws InsecurePathError when `stats` (of `target`, read through the open descriptor) break `rule`. */
  check(target: string, stats: Stats, rule: PathRule): void;
  /** Nobody but `trusted` can swap `directory` or anything above it; throws InsecurePathError. */
  checkDirectoryChain(directory: string, trusted?: readonly AccountId[]): Promise<void>;
  /** Refuses `file` when others could replace it through its directory (settings an administrator writes). */
  checkParentDirectory(file: string): Promise<void>;
  /** `mkdir -p` where every directory made gets exactly `mode`; throws UnusablePathError naming the culprit. */
  makeDirectories(directory: string, mode: number): Promise<void>;
  /** The accounts trusted by default: root, and this process's own. */
  trustedOwners(): AccountId[];
}

const access = (): FileAccess => currentPlatform().access;

/** A file this process wrote itself: owned by its own account, and none of `forbiddenModeBits` set. */
export function ownedByThisProcess(forbiddenModeBits: number): PathRule {
  return { owners: [currentAccount()], forbiddenModeBits };
}

export function trustedOwners(): AccountId[] {
  return access().trustedOwners();
}

export function checkStats(target: string, stats: Stats, rule: PathRule): void {
  access().check(target, stats, rule);
}

export function checkDirectoryChain(directory: string, trusted?: readonly AccountId[]): Promise<void> {
  return access().checkDirectoryChain(directory, trusted);
}

export function checkParentDirectory(file: string): Promise<void> {
  return access().checkParentDirectory(file);
}

export function makeDirectories(directory: string, mode: number): Promise<void> {
  return access().makeDirectories(directory, mode);
}

/** Reads a whole file through one descriptor after checking it (no swap between check and read). */
export async function readCheckedFile(file: string, rule: PathRule, maxBytes: number): Promise<Buffer> {
  return (await readCheckedFileWithStats(file, rule, maxBytes)).data;
}

/** readCheckedFile, also returning the stats the checks were made on (for a second, content-dependent rule). */
export async function readCheckedFileWithStats(
  file: string,
  rule: PathRule,
  maxBytes: number,
): Promise<{ data: Buffer; stats: Stats }> {
  const handle = await fs.open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new InsecurePathError(file, `${file} is not a regular file`);
    checkStats(file, stats, rule);
    if (stats.size > maxBytes) throw new RangeError(`${file} is ${stats.size} bytes, over the limit of ${maxBytes}`);
    const data = await handle.readFile();
    if (data.length > maxBytes)
      throw new RangeError(`${file} grew over the limit of ${maxBytes} bytes while being read`);
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
