/**
 * Durable, atomic file replacement on Windows (STYLE.md §7): a temp file in the same directory,
 * flushed (FileHandle.sync is FlushFileBuffers), then MoveFileExW with MOVEFILE_REPLACE_EXISTING
 * and MOVEFILE_WRITE_THROUGH, which returns only once the rename is on the disk. NTFS has no
 * directory fsync: the write-through rename is what makes an entry durable, so syncDirectory
 * has nothing left to do.
 */
import { promises as fs } from 'node:fs';
import { SystemError } from '../system-error.js';
import { writeSyncedTempFile } from '../temp-file.js';
import { describeWin32Error, useWin32 } from './win32.js';

const MOVEFILE_REPLACE_EXISTING = 0x1;
const MOVEFILE_WRITE_THROUGH = 0x8;

export async function fsyncDirectory(_directory: string): Promise<void> {}

export async function writeFileDurably(file: string, data: Uint8Array, mode = 0o600): Promise<void> {
  const win = useWin32('files-unavailable');
  const temp = await writeSyncedTempFile(file, data, mode);
  if (win.MoveFileExW(temp, file, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH) === 0) {
    const error = win.GetLastError();
    await fs.unlink(temp).catch(() => undefined);
    throw new SystemError('files-unavailable', `cannot replace ${file}: ${describeWin32Error(error)}`);
  }
}
