/**
 * The durable-file seam (STYLE.md §7): a file replaced so that a crash at any point leaves the old
 * or the new one, complete, and a directory's entries made durable after an unlink or rename.
 * Linux: write a temp file, fsync, rename, fsync the directory (platform/linux/durable-file.ts).
 */
import { currentPlatform } from './platform.js';

/** Replaces `file` with `data` (mode 0600 unless given) durably. */
export function writeFileDurably(file: string, data: Uint8Array, mode = 0o600): Promise<void> {
  return currentPlatform().durable.writeFile(file, data, mode);
}

/** Makes the creation, rename or removal of entries in `directory` durable. */
export function fsyncDirectory(directory: string): Promise<void> {
  return currentPlatform().durable.syncDirectory(directory);
}
