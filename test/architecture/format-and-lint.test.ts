/**
 * One formatter and linter for the whole tree, run by the test command (docs/dependencies.md
 * "Biome"): every TypeScript and JavaScript file is formatted as biome.json says and passes its
 * lint rules, warnings included. `npm run format` fixes what a formatter can.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

describe('biome', () => {
  it('finds the tree formatted and every lint rule kept', () => {
    const run = spawnSync(
      join(ROOT, 'node_modules', '.bin', 'biome'),
      ['ci', '--colors=off', '--error-on-warnings', '--max-diagnostics=50', '.'],
      {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    expect(run.status, `${run.stdout}${run.stderr}\nrun npm run format, then fix what remains`).toBe(0);
  }, 150_000);
});
