/**
 * The file-lock seam: one process per state directory (docs/state-files.md, `agent.lock`) and per
 * phone vault. The OS drops the lock when its holder dies, so a crash never leaves a stale lock.
 * Linux: flock(2) (platform/linux/file-lock.ts).
 */
import { currentPlatform } from './platform.js';

export interface ExclusiveLock {
  /** Releases the lock; calling it again does nothing. */
  release(): Promise<void>;
}

/** Takes the lock on `file` (created 0600 when missing) or throws SystemError `lock-held` / `lock-unavailable`. */
export function acquireExclusiveLock(file: string): Promise<ExclusiveLock> {
  return currentPlatform().locks.acquireExclusive(file);
}
