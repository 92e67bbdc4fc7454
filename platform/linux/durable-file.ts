/**
 * Durable, atomic file replacement (STYLE.md §7): write a temp file in the same directory,
 * fsync it, rename it over the target, fsync the directory. A crash at any point leaves
 * either the old or the new file, complete.
 */
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { writeSyncedTempFile } from '../temp-file.js';

export async function fsyncDirectory(directory: string): Promise<void> {
  const handle = await fs.open(directory, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Replaces `file` with `data` (mode 0600 unless given) durably. */
export async function writeFileDurably(file: string, data: Uint8Array, mode = 0o600): Promise<void> {
  const temp = await writeSyncedTempFile(file, data, mode);
  try {
    await fs.rename(temp, file);
  } catch (error) {
    await fs.unlink(temp).catch(() => undefined);
    throw error;
  }
  await fsyncDirectory(path.dirname(file));
}
