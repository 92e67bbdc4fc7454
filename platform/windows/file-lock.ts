/**
 * One agent per state directory on Windows (docs/state-files.md, `agent.lock`): an exclusive
 * LockFileEx on the lock file, opened with CreateFileW so the HANDLE is ours. Windows drops the
 * lock when the handle closes, also when the process dies, so a crash leaves no stale lock.
 */
import path from 'node:path';
import type { ExclusiveLock } from '../file-lock.js';
import { SystemError } from '../system-error.js';
import { ERROR_LOCK_VIOLATION, INVALID_HANDLE_VALUE, OVERLAPPED_BYTES, describeWin32Error, useWin32 } from './win32.js';

const GENERIC_READ_WRITE = 0xc000_0000;
const FILE_SHARE_READ_WRITE = 0x3;
const OPEN_ALWAYS = 4;
const FILE_ATTRIBUTE_NORMAL = 0x80;
const LOCKFILE_FAIL_IMMEDIATELY = 0x1;
const LOCKFILE_EXCLUSIVE_LOCK = 0x2;

export async function acquireExclusiveLock(file: string): Promise<ExclusiveLock> {
  if (typeof file !== 'string' || file === '') throw new TypeError('file must be a non-empty path');
  const win = useWin32('lock-unavailable');
  const handle = win.CreateFileW(
    file,
    GENERIC_READ_WRITE,
    FILE_SHARE_READ_WRITE,
    null,
    OPEN_ALWAYS,
    FILE_ATTRIBUTE_NORMAL,
    0,
  );
  if (handle === INVALID_HANDLE_VALUE)
    throw new SystemError(
      'lock-unavailable',
      `cannot open the lock file ${file}: ${describeWin32Error(win.GetLastError())}`,
    );
  // LOCKFILE_FAIL_IMMEDIATELY on a handle opened without FILE_FLAG_OVERLAPPED: it returns at once.
  const overlapped = win.koffi.alloc('uint8_t', OVERLAPPED_BYTES);
  try {
    win.koffi.encode(overlapped, win.koffi.array('uint8_t', OVERLAPPED_BYTES), new Array(OVERLAPPED_BYTES).fill(0));
    if (win.LockFileEx(handle, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, overlapped) === 0) {
      const error = win.GetLastError();
      win.CloseHandle(handle);
      if (error === ERROR_LOCK_VIOLATION)
        throw new SystemError(
          'lock-held',
          `another Latchkey agent is using ${path.dirname(file)} (lock held on ${file})`,
        );
      throw new SystemError('lock-unavailable', `cannot lock ${file}: ${describeWin32Error(error)}`);
    }
  } finally {
    win.koffi.free(overlapped);
  }
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      win.CloseHandle(handle);
    },
  };
}
