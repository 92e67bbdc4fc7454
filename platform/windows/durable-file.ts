/**
 * Durable, atomic file replacement on Windows (STYLE.md §7): a temp file in the same directory,
 * flushed (FileHandle.sync is FlushFileBuffers), then MoveFileExW with MOVEFILE_REPLACE_EXISTING
 * and MOVEFILE_WRITE_THROUGH, which returns only once the rename is on the disk. NTFS has no
 * directory fsync: the write-through rename is what makes an entry durable, so syncDirectory
 * has nothing left to do.
 */
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { toHex } from '../../protocol/bytes.js';
import { randomBytes } from '../../protocol/crypto/hashes.js';
import { SystemError } from '../system-error.js';
import { describeWin32Error, useWin32 } from './win32.js';

const MOVEFILE_REPLACE_EXISTING = 0x1;
const MOVEFILE_WRITE_THROUGH = 0x8;

export async function fsyncDirectory(_directory: string): Promise<void> {}

export async function writeFileDurably(file: string, data: Uint8Array, mode = 0o600): Promise<void> {
  const win = useWin32('files-unavailable');
  const directory = path.dirname(file);
  const temp = path.join(directory, `.${path.basename(file)}.tmp-${toHex(randomBytes(6))}`);
  const handle = await fs.open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await fs.unlink(temp).catch(() => undefined);
    throw error;
  }
  await handle.close();
  if (win.MoveFileExW(temp, file, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH) === 0) {
    const error = win.GetLastError();
    await fs.unlink(temp).catch(() => undefined);
    throw new SystemError('files-unavailable', `cannot replace ${file}: ${describeWin32Error(error)}`);
  }
}
