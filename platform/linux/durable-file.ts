/**
 * Durable, atomic file replacement (STYLE.md §7): write a temp file in the same directory,
 * fsync it, rename it over the target, fsync the directory. A crash at any point leaves
 * either the old or the new file, complete.
 */
import { constants, promises as fs } from 'node:fs';
import { toHex } from '../../protocol/bytes.js';
import { randomBytes } from '../../protocol/crypto/hashes.js';
import path from 'node:path';

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
  const directory = path.dirname(file);
  const temp = path.join(directory, `.${path.basename(file)}.tmp-${toHex(randomBytes(6))}`);
  const handle = await fs.open(
    temp,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    mode,
  );
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await fs.unlink(temp).catch(() => undefined);
    throw error;
  }
  await handle.close();
  try {
    await fs.rename(temp, file);
  } catch (error) {
    await fs.unlink(temp).catch(() => undefined);
    throw error;
  }
  await fsyncDirectory(directory);
}
