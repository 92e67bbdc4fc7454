/**
 * The first half of a durable replacement (STYLE.md §7), the same on every OS: a new temp file
 * beside the target (never an existing one, never through a symbolic link where the OS has
 * O_NOFOLLOW), written and flushed to the disk (fsync; FlushFileBuffers on Windows). The OS's
 * durable-file seam then renames it over the target.
 */
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { toHex } from '../protocol/bytes.js';
import { randomBytes } from '../protocol/crypto/hashes.js';

/** Returns the temp file's path; on failure nothing is left behind. */
export async function writeSyncedTempFile(file: string, data: Uint8Array, mode: number): Promise<string> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${toHex(randomBytes(6))}`);
  const handle = await fs.open(
    temp,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0),
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
  return temp;
}
