/**
 * Shared code lives low and no import runs back up a layer (STYLE.md §13, docs/architecture.md
 * "Layers"): protocol/ ← platform/ ← ble/ ← agent/, phone/, control-center/ ← cli/. And every
 * OS-specific call goes through a seam: only platform/ itself imports platform/<os>/.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = new URL('../../', import.meta.url);

function sources(root: string): string[] {
  return readdirSync(new URL(`${root}/`, REPO)).flatMap((name) => {
    const file = `${root}/${name}`;
    if (statSync(new URL(file, REPO)).isDirectory()) return sources(file);
    return /\.(tsx?|mjs)$/.test(name) ? [file] : [];
  });
}

/** What each top folder may import besides itself. */
const MAY_IMPORT: Record<string, readonly string[]> = {
  protocol: [],
  platform: ['protocol'],
  ble: ['protocol', 'platform'],
  agent: ['protocol', 'platform', 'ble'],
  phone: ['protocol', 'platform', 'ble'],
  'control-center': ['protocol', 'platform'],
  cli: ['protocol', 'platform', 'ble', 'agent', 'phone', 'control-center'],
};
/** Deliberate crossings, each with its reason (docs/architecture.md). */
const ALLOWED: ReadonlySet<string> = new Set([
  // The settings preview shows the sentences a phone shows, from the phone's own table.
  'control-center/console/src/pages/settings-preview.tsx -> phone/core/sentences.ts',
]);

const files = Object.keys(MAY_IMPORT).flatMap(sources);

function importsOf(file: string): string[] {
  const source = readFileSync(new URL(file, REPO), 'utf8');
  return [...source.matchAll(/(?:^import[^;]*?from|import\()\s*'(\.{1,2}\/[^']+)'/gms)].map((m) =>
    path.normalize(path.join(path.dirname(file), m[1]!)),
  );
}

describe('layers', () => {
  it.each(files)('%s imports nothing above its layer', (file) => {
    const own = file.split('/')[0]!;
    for (const target of importsOf(file)) {
      const top = target.split('/')[0]!;
      if (
        top === own ||
        ALLOWED.has(
          `${file} -> ${target.replace(/\.js$/, '.ts').replace(/\.ts$/, (ext) => (target.endsWith('.tsx') ? '.tsx' : ext))}`,
        )
      )
        continue;
      expect(MAY_IMPORT[own], `${file} imports ${target}`).toContain(top);
    }
  });

  it.each(files.filter((file) => !file.startsWith('platform/')))(
    '%s reaches the OS only through platform/ seams',
    (file) => {
      for (const target of importsOf(file))
        expect(target, `${file} imports ${target}`).not.toMatch(/^platform\/(linux|windows|darwin)\//);
    },
  );
});
