/**
 * The file-access seam on Linux (platform/secure-path.ts): a rule's owners are uids and its
 * forbidden bits are mode bits, read from the file's own stats.
 */
import { promises as fs, type Stats } from 'node:fs';
import path from 'node:path';
import { describeFileError } from '../file-errors.js';
import { missingDirectories } from '../missing-directories.js';
import { InsecurePathError, UnusablePathError } from '../path-errors.js';
import type { AccountId } from '../ipc-transport.js';
import type { PathRule } from '../secure-path.js';

export function trustedOwners(): number[] {
  const uid = process.getuid?.() ?? 0;
  return uid === 0 ? [0] : [0, uid];
}

export function checkStats(target: string, stats: Stats, rule: PathRule): void {
  const owners = rule.owners ?? trustedOwners();
  if (!owners.includes(stats.uid)) {
    throw new InsecurePathError(
      target,
      `${target} is owned by uid ${stats.uid}; it must be owned by ${describeOwners(owners)}`,
    );
  }
  const bad = stats.mode & rule.forbiddenModeBits;
  if (bad !== 0) {
    const mode = (stats.mode & 0o7777).toString(8).padStart(4, '0');
    const what = rule.forbiddenModeBits & 0o044 ? 'accessible' : 'writable';
    throw new InsecurePathError(
      target,
      `${target} has mode ${mode}: it must not be group- or world-${what} (try chmod ${rule.forbiddenModeBits & 0o044 ? '600/700' : 'go-w'})`,
    );
  }
}

/**
 * `mkdir -p` where every directory it creates gets `mode` exactly (the umask would narrow it).
 * It walks up to the first directory that exists and creates the rest one by one: Node's own
 * recursive mkdir loops forever under /proc, and names no culprit when a parent is a file.
 */
export async function makeDirectories(directory: string, mode: number): Promise<void> {
  const target = path.resolve(directory);
  const missing = await missingDirectories(target);
  for (const created of missing) {
    try {
      await fs.mkdir(created, { mode });
      await fs.chmod(created, mode);
    } catch (error) {
      if (
        (error as NodeJS.ErrnoException).code === 'EEXIST' &&
        (await fs.stat(created).catch(() => null))?.isDirectory()
      )
        continue; // made meanwhile: checked, not changed
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
export async function checkDirectoryChain(
  directory: string,
  trusted: readonly AccountId[] = trustedOwners(),
): Promise<void> {
  const owners = trusted.includes(0) ? trusted : [0, ...trusted];
  const real = await fs.realpath(directory);
  for (let current = real, first = true; ; first = false) {
    const stats = await fs.stat(current);
    if (!stats.isDirectory()) throw new InsecurePathError(current, `${current} is not a directory`);
    if (!owners.includes(stats.uid)) {
      throw new InsecurePathError(
        current,
        `${current} is owned by uid ${stats.uid}, so that user could replace what is inside it; ${describeOwners(owners)} must own it (chown root ${current})`,
      );
    }
    const othersMayWrite = (stats.mode & 0o022) !== 0;
    if (othersMayWrite && (first || (stats.mode & 0o1000) === 0)) {
      const mode = (stats.mode & 0o7777).toString(8).padStart(4, '0');
      throw new InsecurePathError(
        current,
        `${current} has mode ${mode}: others could replace what is inside it (chmod go-w ${current})`,
      );
    }
    const parent = path.dirname(current);
    if (parent === current) return;
    current = parent;
  }
}

/** A file in `directory` could be replaced by others when they may write it without the sticky bit. */
export async function checkParentDirectory(file: string): Promise<void> {
  const directory = path.dirname(path.resolve(file));
  const stats = await fs.stat(directory);
  if ((stats.mode & 0o022) !== 0 && (stats.mode & 0o1000) === 0) {
    throw new InsecurePathError(
      directory,
      `${directory} is group- or world-writable without the sticky bit, so ${file} could be replaced`,
    );
  }
}

function describeOwners(owners: readonly AccountId[]): string {
  return owners.map((o) => (o === 0 ? 'root' : `uid ${o}`)).join(' or ');
}
