/**
 * One agent per state directory (docs/state-files.md, `agent.lock`): an exclusive flock(2) on
 * a lock file. The kernel drops the lock when the holder's descriptor closes, including when
 * the process dies (kill -9), so a crashed agent never leaves a stale lock behind.
 */
import { close, closeSync, constants, fstatSync, lstatSync, openSync } from 'node:fs';
import path from 'node:path';
import { SystemError, requireLinux } from '../system-error.js';
import { describeErrno, useLibc, type Libc } from './libc.js';

export interface ExclusiveLock {
  /** Releases the lock; calling it again does nothing. */
  release(): Promise<void>;
}

const LOCK_EX = 2;
const LOCK_NB = 4;
const EWOULDBLOCK = 11;
const EINTR = 4;
const LOCK_FILE_MODE = 0o600;
/** A lock file replaced between open() and flock() is retried this many times. */
const MAX_ATTEMPTS = 3;

export async function acquireExclusiveLock(file: string): Promise<ExclusiveLock> {
  if (typeof file !== 'string' || file === '') throw new TypeError('file must be a non-empty path');
  requireLinux('lock-unavailable', 'Locking the state directory');
  const libc = useLibc('lock-unavailable');
  for (let attempt = 1; ; attempt++) {
    // A plain descriptor, not a FileHandle: a FileHandle is closed when garbage-collected, which
    // would silently drop the lock. libuv opens with O_CLOEXEC, so children never inherit it.
    const fd = openLockFile(file);
    try {
      checkLockFile(file, fd);
      flockExclusive(libc, file, fd);
      // Someone may have replaced the file after we opened it; then our lock guards nothing.
      const held = fstatSync(fd);
      const current = lstatSync(file, { throwIfNoEntry: false });
      if (current && current.ino === held.ino && current.dev === held.dev) return lockFor(fd);
      if (attempt >= MAX_ATTEMPTS)
        throw new SystemError('lock-unavailable', `the lock file ${file} keeps being replaced`);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    closeSync(fd);
  }
}

function openLockFile(file: string): number {
  try {
    return openSync(file, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, LOCK_FILE_MODE);
  } catch (error) {
    throw new SystemError('lock-unavailable', `cannot open the lock file ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function flockExclusive(libc: Libc, file: string, fd: number): void {
  for (;;) {
    if (libc.flock(fd, LOCK_EX | LOCK_NB) === 0) return;
    const errno = libc.errno();
    if (errno === EINTR) continue;
    if (errno === EWOULDBLOCK) {
      throw new SystemError(
        'lock-held',
        `another Latchkey agent is using ${path.dirname(file)} (lock held on ${file})`,
      );
    }
    throw new SystemError('lock-unavailable', `cannot lock ${file}: ${describeErrno(errno)}`);
  }
}

// flock needs only read access: a lock file others can open would let them block the agent.
function checkLockFile(file: string, fd: number): void {
  const stats = fstatSync(fd);
  if (!stats.isFile()) throw new SystemError('lock-unavailable', `${file} is not a regular file`);
  const uid = process.getuid?.();
  if (uid !== undefined && stats.uid !== uid) {
    throw new SystemError('lock-unavailable', `${file} is owned by uid ${stats.uid}, not by this agent (uid ${uid})`);
  }
  if ((stats.mode & 0o077) !== 0) {
    const mode = (stats.mode & 0o7777).toString(8).padStart(4, '0');
    throw new SystemError(
      'lock-unavailable',
      `${file} has mode ${mode}: it must not be accessible to group or others (chmod 600)`,
    );
  }
}

function lockFor(fd: number): ExclusiveLock {
  let released: Promise<void> | undefined;
  return {
    release() {
      // Closing the descriptor is what releases a flock.
      released ??= new Promise((resolve, reject) => close(fd, (error) => (error ? reject(error) : resolve())));
      return released;
    },
  };
}
