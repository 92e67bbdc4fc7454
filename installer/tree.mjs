// Facts about a staging tree that both package formats need: its files, their digests and the
// installed size (as dpkg counts it: each file's size rounded up to KiB, one KiB per directory
// or link).
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Every entry under root (files, links, directories), depth first, sorted, skipping `exclude` at the top. */
export function walkTree(root, exclude = []) {
  const entries = [];
  const visit = (dir) => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      if (dir === root && exclude.includes(name)) continue;
      const stats = lstatSync(full);
      entries.push({ path: relative(root, full), full, stats });
      if (stats.isDirectory()) visit(full);
    }
  };
  visit(root);
  return entries;
}

export function installedSizeKiB(root, exclude = ['DEBIAN']) {
  return walkTree(root, exclude).reduce(
    (sum, { stats }) => sum + (stats.isFile() ? Math.ceil(stats.size / 1024) : 1),
    0,
  );
}

/** DEBIAN/md5sums: one line per regular file, paths relative to /. */
export function md5sums(root) {
  return walkTree(root, ['DEBIAN'])
    .filter(({ stats }) => stats.isFile())
    .map(({ path, full }) => `${createHash('md5').update(readFileSync(full)).digest('hex')}  ${path}\n`)
    .join('');
}

export function describeSize(kib) {
  return `${(kib / 1024).toFixed(1)} MiB (${kib} KiB)`;
}
