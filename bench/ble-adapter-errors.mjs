#!/usr/bin/env node
// How long `latchkey ble …` takes to fail when the adapter it names is not there (issue 10, item
// 6): a missing USB dongle, a --uart path that does not exist or is not a tty, an --hci N the
// kernel does not have. Each is a whole `latchkey` process (node start included), from spawn to
// exit. Target: within 1 s each (before the checks of ble/adapter-probe.ts it was the 5-second
// power-on wait). Results also go to bench/results/ble-adapter-errors.json.
//   npm run build && node bench/ble-adapter-errors.mjs [--count N]
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { benchCount, ROOT, writeResults } from './bench-support.mjs';

const BIN = join(ROOT, 'bin/latchkey.js');
const COUNT = benchCount(10);

const cases = [
  { name: 'a USB dongle that is not plugged in', args: ['ble', 'scan', '--usb', 'f0f0:0f0f'] },
  { name: 'a --uart path that does not exist', args: ['ble', 'scan', '--uart', '/dev/ttyLATCHKEY-none'] },
  { name: 'a --uart path that is not a tty', args: ['ble', 'scan', '--uart', '/etc/passwd'] },
  { name: 'an --hci N the kernel does not have', args: ['ble', 'scan', '--hci', '9'] },
];
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

const rows = cases.map(({ name, args }) => {
  const ms = [];
  let line = '';
  for (let i = 0; i < COUNT; i++) {
    const started = performance.now();
    // The bin under the shipped V8 flags, as `latchkey` runs (cli/agent-process.ts).
    const run = spawnSync(process.execPath, ['--lite-mode', '--no-expose-wasm', '--single-threaded-gc', BIN, ...args], {
      encoding: 'utf8',
    });
    ms.push(performance.now() - started);
    if (run.status !== 2) throw new Error(`${args.join(' ')} exited ${run.status}: ${run.stderr}`);
    line = run.stderr.trim();
  }
  const sorted = ms.sort((a, b) => a - b);
  return { name, p50Ms: pct(sorted, 50), maxMs: sorted.at(-1), line };
});

const f = (n) => `${n.toFixed(0)} ms`;
console.log(
  `latchkey ble with an adapter that is not there, spawn → exit, ${COUNT} runs each, node ${process.version}`,
);
for (const r of rows) console.log(`  ${r.name}: p50 ${f(r.p50Ms)}, max ${f(r.maxMs)}\n    ${r.line}`);
const worst = Math.max(...rows.map((r) => r.maxMs));
console.log(`\ntarget: every failure within 1 s: worst ${f(worst)} (${worst <= 1000 ? 'met' : 'MISSED'})`);
writeResults('ble-adapter-errors', { node: process.version, count: COUNT, rows });
