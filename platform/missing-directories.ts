/**
 * The walk both OSes' makeDirectories share (platform/secure-path.ts): up from `directory` to the
 * first one that exists, naming the culprit when a part is a file. Node's own recursive mkdir
 * loops forever under /proc, and names no culprit.
 */
import { promises as fs, type Stats } from 'node:fs';
import path from 'node:path';
import { describeFileError } from './file-errors.js';
import { UnusablePathError } from './path-errors.js';

/** The directories to create for `target` (already resolved), outermost first; throws UnusablePathError. */
export async function missingDirectories(target: string): Promise<string[]> {
  const missing: string[] = [];
  for (let current = target; ; ) {
    let stats: Stats;
    try {
      stats = await fs.stat(current);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const parent = path.dirname(current);
      if ((code === 'ENOENT' || code === 'ENOTDIR') && parent !== current) {
        missing.push(current);
        current = parent;
        continue;
      }
      throw new UnusablePathError(target, describeFileError(error), { cause: error });
    }
    if (stats.isDirectory()) return missing.reverse();
    throw new UnusablePathError(
      target,
      current === target
        ? `${target} exists and is not a directory`
        : `cannot create ${target}: ${current} is a file, not a directory`,
    );
  }
}
