#!/usr/bin/env node
// What the agent's idle memory is made of (beside bench/agent-verify.mjs's idle RSS target):
// the resident memory of a node process that only imports one thing and idles, under the
// agent's shipped V8 flags, each the median of --samples processes, and what it adds to the
// part before it. Prints figures, never asserts.
//
//   npm run build && node bench/agent-memory-parts.mjs [--samples 5]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { benchOptions, dist, ROOT, writeResults } from './bench-support.mjs';

const { AGENT_NODE_FLAGS } = await dist('cli/agent-process.js');
const { samples: SAMPLES } = benchOptions({ numbers: { samples: 5 } });
const at = (path) => pathToFileURL(`${ROOT}/${path}`).href;

/** Each part: what the process imports (nothing for a bare node), and under which flags. */
const PARTS = [
  { name: 'bare node, no flags', flags: [], imports: null },
  { name: 'bare node, the agent flags', flags: AGENT_NODE_FLAGS, imports: null },
  {
    name: '+ the ES module loader (one small module)',
    flags: AGENT_NODE_FLAGS,
    imports: at('dist/platform/system-error.js'),
  },
  { name: '+ koffi (SO_PEERCRED, getpw*_r on Linux)', flags: AGENT_NODE_FLAGS, imports: 'koffi' },
  { name: '+ valibot (every schema)', flags: AGENT_NODE_FLAGS, imports: 'valibot' },
  { name: 'platform/ (koffi with it)', flags: AGENT_NODE_FLAGS, imports: at('dist/platform/platform.js') },
  { name: 'agent/agent.js, all it imports', flags: AGENT_NODE_FLAGS, imports: at('dist/agent/agent.js') },
  { name: 'cli/main.js, as `latchkey agent` loads it', flags: AGENT_NODE_FLAGS, imports: at('dist/cli/main.js') },
];

const quantile = (values, q) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))];

/** VmRSS of a process that imports `imports` and idles, 1.5 s after it starts; stopped by its pid. */
async function rssKiB({ flags, imports }) {
  const code = `${imports === null ? '' : `await import(${JSON.stringify(imports)});`} setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, [...flags, '--input-type=module', '-e', code], { cwd: ROOT, stdio: 'ignore' });
  try {
    await new Promise((resolve) => setTimeout(resolve, 1500));
    if (child.exitCode !== null) throw new Error(`the process importing ${imports} exited (${child.exitCode})`);
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]);
  } finally {
    child.kill();
  }
}

process.stdout.write(
  `Latchkey agent memory by part — node ${process.version}, median of ${SAMPLES}, flags ${AGENT_NODE_FLAGS.join(' ')}\n\n`,
);
const results = {};
for (const part of PARTS) {
  const readings = [];
  for (let i = 0; i < SAMPLES; i++) readings.push(await rssKiB(part));
  results[part.name] = quantile(readings, 0.5);
}
const loader = results['+ the ES module loader (one small module)'];
for (const part of PARTS) {
  const mib = (results[part.name] / 1024).toFixed(1);
  const added =
    part.name.startsWith('+ ') && !part.name.includes('loader')
      ? `+${((results[part.name] - loader) / 1024).toFixed(1)} MiB over the loader`
      : '';
  process.stdout.write(`${part.name.padEnd(46)} ${`${mib} MiB`.padEnd(12)} ${added}\n`);
}
writeResults('agent-memory-parts', { samples: SAMPLES, flags: AGENT_NODE_FLAGS, rssKiB: results });
