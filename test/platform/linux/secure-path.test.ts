/** makeDirectories (platform/linux/secure-path.ts): `mkdir -p` with exact modes, and a sentence when it cannot. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UnusablePathError } from '../../../platform/path-errors.js';
import { makeDirectories } from '../../../platform/linux/secure-path.js';
import { makeTempDir } from '../../helpers/agent-harness.js';

const mode = async (dir: string) => (await fs.stat(dir)).mode & 0o777;
let savedUmask: number | undefined;
afterEach(() => {
  if (savedUmask !== undefined) process.umask(savedUmask);
  savedUmask = undefined;
});

describe('makeDirectories', () => {
  it('gives every directory it creates exactly the mode, whatever the umask, and leaves an existing one alone', async () => {
    const base = await makeTempDir();
    await fs.chmod(base, 0o755);
    savedUmask = process.umask(0o777);
    await makeDirectories(path.join(base, 'a', 'b', 'c'), 0o700);
    process.umask(savedUmask);
    savedUmask = undefined;
    for (const dir of ['a', 'a/b', 'a/b/c']) expect(await mode(path.join(base, dir))).toBe(0o700);
    expect(await mode(base)).toBe(0o755);
    await makeDirectories(path.join(base, 'a', 'b', 'c'), 0o755); // exists: checked elsewhere, not changed here
    expect(await mode(path.join(base, 'a/b/c'))).toBe(0o700);
  });

  it('names the file that stands where a directory should be', async () => {
    const base = await makeTempDir();
    const file = path.join(base, 'file');
    await fs.writeFile(file, '');
    await expect(makeDirectories(path.join(file, 'x', 'y'), 0o700)).rejects.toThrow(
      new UnusablePathError(path.join(file, 'x', 'y'), `cannot create ${file}/x/y: ${file} is a file, not a directory`),
    );
    await expect(makeDirectories(file, 0o700)).rejects.toThrow(`${file} exists and is not a directory`);
  });

  it("fails at once where the file system allows no directory (Node's own recursive mkdir loops forever under /proc)", async () => {
    const target = `/proc/latchkey-${process.pid}/a`;
    await expect(makeDirectories(target, 0o700)).rejects.toThrow(
      `the file system does not allow creating /proc/latchkey-${process.pid}`,
    );
  });
});
