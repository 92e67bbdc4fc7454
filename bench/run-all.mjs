#!/usr/bin/env node
// Runs every benchmark in turn (npm run bench). Each prints its own figures and writes JSON
// under bench/results/. Needs `npm run build` first; the PAM benchmarks need root.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
let failed = 0;
for (const bench of [
  'kdf-calibration.mjs',
  'agent-verify.mjs',
  'agent-memory-parts.mjs',
  'pam-vs-oath.mjs',
  'control-center-approvals.mjs',
  'ble-unlock.mjs',
  'ble-pam.mjs',
  'ble-adapter-errors.mjs',
]) {
  process.stdout.write(`\n=== bench/${bench}\n`);
  const run = spawnSync(process.execPath, [join(here, bench), ...process.argv.slice(2)], { stdio: 'inherit' });
  if (run.status !== 0) failed++;
}
process.exitCode = failed === 0 ? 0 : 1;
