#!/usr/bin/env node
// Agent benchmark (issue 2): prints figures, never asserts. Everything runs against real agent
// processes on temp directories, over the real socket, with the default KDF unless noted.
//
//   npm run build && node bench/agent-verify.mjs [--samples 100] [--node-flags="--lite-mode …"]
//
// --node-flags runs the agents under other V8 flags than the shipped ones (cli/agent-process.ts),
// for an A/B of memory; bench/agent-memory-parts.mjs says what the agent's idle memory is made of.
//
// Prints: verification latency p50/p99 for a valid PIN and for a wrong PIN against a full
// default pool; the KDF cost per guess and the offline-guessing estimate; the IPC + durable
// write overhead with the KDF at its minimum — as the lock screen's client sees it (the PAM
// module's own C transport, bench/c/lock-screen-client.c, one kept connection: status, then
// verify) and as the Node CLI client sees it (a new connection per request); cold start to
// socket ready; idle RSS beside a bare `node` measured in the same run; memory after a
// simulated day of an enrolled agent's background chores (bench/agent-chores-day.mjs). Results also go to
// bench/results/agent-verify.json.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { C_COMPILER, compileC } from './c/compile.mjs';
import { INCLUDE_DIR, buildLibraries } from '../native/c-library.mjs';
import { benchOptions, canConnect, ROOT, dist, writeResults } from './bench-support.mjs';

const { askAgent } = await dist('cli/agent-client.js');
const { parseEnrollmentUri } = await dist('protocol/enrollment-uri.js');
const { deriveOfflinePin, formatPinForDisplay } = await dist('protocol/offline-pin.js');
const { computeVerifier, DEFAULT_KDF } = await dist('agent/offline-pin/kdf.js');
const { AGENT_NODE_FLAGS, latchkeyCommand } = await dist('cli/agent-process.js');
// --node-flags="…" runs the agents under other V8 flags than the shipped ones (an A/B of memory).
const { samples: SAMPLES, nodeFlags: NODE_FLAGS } = benchOptions({
  numbers: { samples: 100 },
  strings: { 'node-flags': AGENT_NODE_FLAGS.join(' ') },
});
const MIN_KDF = { memoryKiB: 8, iterations: 1 };
const USER = 'daemon';
const enc = new TextEncoder();

const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};
const ms = (value) => `${value.toFixed(value < 10 ? 2 : 1)} ms`;

async function startAgent(policy, kdf, { logLevel = 'warn' } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-bench-'));
  const config = join(dir, 'agent.json');
  const socket = join(dir, 'agent.sock');
  writeFileSync(
    config,
    JSON.stringify({
      policy,
      stateDir: join(dir, 'state'),
      socket,
      keystore: { backend: 'file', directory: join(dir, 'keystore') },
      ...(kdf ? { kdf } : {}),
    }),
    { mode: 0o600 },
  );
  const started = performance.now();
  const shipped = latchkeyCommand(['agent', '--config', config, '--log-level', logLevel]);
  const run = {
    ...shipped,
    args: [...NODE_FLAGS.split(' ').filter(Boolean), ...shipped.args.slice(AGENT_NODE_FLAGS.length)],
  };
  const child = spawn(run.command, run.args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (chunk) => {
    log += chunk;
    if (logLevel === 'warn') process.stderr.write(chunk);
  });
  while (!(await canConnect(socket))) {
    if (child.exitCode !== null) throw new Error('agent exited');
    await new Promise((r) => setTimeout(r, 2));
  }
  const readyMs = performance.now() - started;
  return {
    socket,
    child,
    readyMs,
    /** What the agent itself logged as the time to a durable, audited decision (info level). */
    verifyMsFromLog: () => [...log.matchAll(/ info verify .* ms=([\d.]+)/g)].map((m) => Number(m[1])),
    ask: (request) => askAgent(socket, request, 30_000),
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function rssKiB(pid) {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
}

async function enroll(agent) {
  const reply = await agent.ask({ op: 'enroll', user: USER });
  if (reply.status !== 'ok') throw new Error(`enroll: ${reply.message}`);
  const imported = parseEnrollmentUri(Buffer.from(reply.secret).toString());
  return (c) =>
    enc.encode(formatPinForDisplay(deriveOfflinePin(imported.seed, c, imported.format), imported.format.charset));
}

async function timeVerify(agent, pin) {
  const started = performance.now();
  const reply = await agent.ask({ op: 'verify', user: USER, pin, context: 'bench' });
  return { elapsed: performance.now() - started, reply };
}

async function validLatencies(agent, count, pinCount) {
  const times = [];
  while (times.length < count) {
    const pin = await enroll(agent);
    for (let c = 0; c < pinCount && times.length < count; c++) {
      const { elapsed, reply } = await timeVerify(agent, pin(c));
      if (reply.status !== 'accepted') throw new Error(`valid PIN refused: ${reply.message}`);
      times.push(elapsed);
    }
  }
  return times;
}

/** Wrong PINs against a full pool; an admin reset every 4 keeps the ladder from starting. */
async function wrongLatencies(agent, count) {
  const times = [];
  await enroll(agent);
  for (let i = 0; times.length < count; i++) {
    const { elapsed, reply } = await timeVerify(agent, enc.encode(`WRNG-${String(i).padStart(4, '0')}`));
    if (reply.status !== 'rejected') throw new Error(`wrong PIN not rejected: ${reply.status}`);
    times.push(elapsed);
    if (i % 4 === 3) await agent.ask({ op: 'reset', user: USER, discardState: false });
  }
  return times;
}

async function statusLatencies(agent, count) {
  const times = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await agent.ask({ op: 'status', user: USER });
    times.push(performance.now() - started);
  }
  return times;
}

/** The lock screen's client (bench/c/lock-screen-client.c); null without a C compiler. */
function buildLockScreenClient() {
  if (C_COMPILER === undefined) return null;
  const out = join(mkdtempSync(join(tmpdir(), 'latchkey-bench-cc-')), 'lock-screen-client');
  return compileC(out, [join(ROOT, 'bench/c/lock-screen-client.c'), ...buildLibraries('bench')], [INCLUDE_DIR]);
}

/** Status then verify on one kept connection, pool after pool: the round trips in ms. */
async function lockScreenLatencies(agent, client, count, pinCount) {
  const status = [];
  const verify = [];
  while (verify.length < count) {
    const pin = await enroll(agent);
    const pins = Array.from({ length: Math.min(pinCount, count - verify.length) }, (_, c) =>
      Buffer.from(pin(c)).toString(),
    );
    const run = spawnSync(client, [agent.socket, USER], { input: `${pins.join('\n')}\n`, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`lock-screen client: ${run.stderr}`);
    const times = JSON.parse(run.stdout);
    status.push(...times.statusUs.map((us) => us / 1000));
    verify.push(...times.verifyUs.map((us) => us / 1000));
  }
  return { status, verify };
}

async function kdfMs(params, runs) {
  const pin = enc.encode('K7QM2XHD');
  const salt = new Uint8Array(16);
  await computeVerifier(pin, salt, params);
  const started = performance.now();
  for (let i = 0; i < runs; i++) await computeVerifier(pin, salt, params);
  return (performance.now() - started) / runs;
}

async function bareNodeRssKiB() {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 1500));
  const rss = rssKiB(child.pid);
  child.kill();
  return rss;
}

const results = {};
const POLICY = { offlineMode: true };

// Cold start and idle memory.
// Idle memory is the median of the five agents (one reading of one process varies by ~1 MiB).
const starts = [];
const idle = [];
for (let i = 0; i < 5; i++) {
  const agent = await startAgent(POLICY);
  starts.push(agent.readyMs);
  await enroll(agent);
  await new Promise((r) => setTimeout(r, 1500));
  idle.push(rssKiB(agent.child.pid));
  await agent.stop();
}
results.coldStartMs = quantile(starts, 0.5);
results.idleRssKiB = quantile(idle, 0.5);
results.idleEachKiB = idle;
results.bareNodeRssKiB = await bareNodeRssKiB();

// A simulated day of an enrolled agent's background chores (bench/agent-chores-day.mjs: the
// agent and a Control Center in one process on mock timers), beside the idle figures above.
{
  const day = spawnSync(
    process.execPath,
    ['--expose-gc', '--no-warnings', join(ROOT, 'bench/agent-chores-day.mjs'), '--hours', '24'],
    { encoding: 'utf8', timeout: 300_000 },
  );
  results.choresDay = day.status === 0 ? JSON.parse(day.stdout.trim().split('\n').at(-1)) : null;
  if (day.status !== 0) process.stderr.write(`agent-chores-day failed: ${day.stderr}\n`);
}

// Default KDF: valid and wrong PINs with the default pool of 25.
{
  const agent = await startAgent(POLICY);
  results.validDefault = await validLatencies(agent, SAMPLES, 25);
  results.wrongDefault = await wrongLatencies(agent, Math.max(12, Math.round(SAMPLES / 5)));
  await new Promise((r) => setTimeout(r, 500));
  results.rssAfterVerificationsKiB = rssKiB(agent.child.pid);
  await agent.stop();
}

// KDF at its minimum: what the socket, the sealing and the durable write cost.
{
  const agent = await startAgent(POLICY, MIN_KDF, { logLevel: 'info' });
  await validLatencies(agent, 20, 25); // warm-up
  const before = agent.verifyMsFromLog().length;
  results.validMinKdf = await validLatencies(agent, SAMPLES * 3, 25);
  results.agentSideMinKdf = agent.verifyMsFromLog().slice(before);
  results.statusMinKdf = await statusLatencies(agent, SAMPLES * 3);
  const client = buildLockScreenClient();
  results.lockScreenMinKdf = client ? await lockScreenLatencies(agent, client, SAMPLES * 3, 25) : null;
  if (client) rmSync(dirname(client), { recursive: true, force: true });
  await agent.stop();
}
results.kdfDefaultMs = await kdfMs(DEFAULT_KDF, 20);
results.kdfMinMs = await kdfMs({ ...DEFAULT_KDF, ...MIN_KDF }, 200);

const guesses = 2 ** 39; // expected guesses for one 8-symbol Crockford PIN (32^8 / 2)
const coreYears = (guesses * results.kdfDefaultMs) / 1000 / (365.25 * 24 * 3600);
const summary = {
  validP50: quantile(results.validDefault, 0.5),
  validP99: quantile(results.validDefault, 0.99),
  wrongP50: quantile(results.wrongDefault, 0.5),
  wrongP99: quantile(results.wrongDefault, 0.99),
  cliOverheadP50: quantile(results.validMinKdf, 0.5) - results.kdfMinMs,
  cliOverheadP99: quantile(results.validMinKdf, 0.99) - results.kdfMinMs,
  statusP50: quantile(results.statusMinKdf, 0.5),
  ...(results.lockScreenMinKdf && {
    overheadP50: quantile(results.lockScreenMinKdf.verify, 0.5) - results.kdfMinMs,
    overheadP99: quantile(results.lockScreenMinKdf.verify, 0.99) - results.kdfMinMs,
    lockScreenStatusP50: quantile(results.lockScreenMinKdf.status, 0.5),
  }),
  agentSideP50: quantile(results.agentSideMinKdf, 0.5) - results.kdfMinMs,
  agentSideP99: quantile(results.agentSideMinKdf, 0.99) - results.kdfMinMs,
  rssRatio: results.idleRssKiB / results.bareNodeRssKiB,
  coreYears,
};

const line = (label, value, target) =>
  process.stdout.write(`${label.padEnd(52)} ${value.padEnd(22)} ${target ?? ''}\n`);
process.stdout.write(
  `Latchkey agent benchmark — ${new Date().toISOString()}, node ${process.version}, ${SAMPLES} samples\n\n`,
);
line(
  'valid PIN, default KDF, full default pool: p50',
  ms(summary.validP50),
  `target ≤ 100 ms ${summary.validP50 <= 100 ? 'MET' : 'MISSED'}`,
);
line('valid PIN, default KDF: p99', ms(summary.validP99));
line(
  'wrong PIN, default KDF, 25 verifiers: p50',
  ms(summary.wrongP50),
  `target ≤ 1000 ms ${summary.wrongP50 <= 1000 ? 'MET' : 'MISSED'}`,
);
line('wrong PIN, default KDF: p99', ms(summary.wrongP99));
line(
  `KDF per guess (Argon2id ${DEFAULT_KDF.memoryKiB / 1024} MiB, t=${DEFAULT_KDF.iterations})`,
  ms(results.kdfDefaultMs),
);
line(
  'offline guessing of one default PIN (2^39 guesses)',
  `${Math.round(coreYears)} core-years`,
  `target ≥ 100 ${coreYears >= 100 ? 'MET' : 'MISSED'}`,
);
if (summary.overheadP50 !== undefined) {
  line(
    'IPC + sealing + durable write, KDF excluded: p50',
    ms(summary.overheadP50),
    `target ≤ 1 ms ${summary.overheadP50 <= 1 ? 'MET' : 'MISSED'} (verify round trip of the lock screen's client)`,
  );
  line('  same, p99', ms(summary.overheadP99));
  line('  the status before it, p50', ms(summary.lockScreenStatusP50), 'PAM module transport, one kept connection');
} else {
  line(
    "IPC + sealing + durable write, lock screen's client",
    'not measured',
    'no C compiler (cc, gcc or clang) to build bench/c/lock-screen-client.c',
  );
}
line(
  '  of which inside the agent (its log): p50 / p99',
  `${ms(summary.agentSideP50)} / ${ms(summary.agentSideP99)}`,
  'request → sealed, fdatasynced, audited',
);
line(
  '  the Node CLI client instead: verify p50 / p99',
  `${ms(summary.cliOverheadP50)} / ${ms(summary.cliOverheadP99)}`,
  "latchkey verify's client: a new connection per request",
);
line('  the Node CLI client: status round trip p50', ms(summary.statusP50));
line(`  (each: the min KDF, ${ms(results.kdfMinMs)}, subtracted)`, '');
line('cold start to socket ready: p50 of 5', ms(results.coldStartMs));
line(
  'idle RSS, median of 5: agent / bare node',
  `${(results.idleRssKiB / 1024).toFixed(1)} / ${(results.bareNodeRssKiB / 1024).toFixed(1)} MiB`,
  `ratio ${summary.rssRatio.toFixed(2)} (target ≤ 1.5) ${summary.rssRatio <= 1.5 ? 'MET' : 'MISSED'}`,
);
line(
  '  each agent, idle',
  results.idleEachKiB.map((kib) => (kib / 1024).toFixed(1)).join(' '),
  `MiB, under ${NODE_FLAGS}`,
);
line('RSS after default-KDF verifications', `${(results.rssAfterVerificationsKiB / 1024).toFixed(1)} MiB`);
if (results.choresDay) {
  const day = results.choresDay;
  line(
    'enrolled agent + CC in one process: RSS after enrolling / after a simulated day of chores',
    `${(day.rssAfterEnrollKiB / 1024).toFixed(1)} / ${(day.rssAfterDayKiB / 1024).toFixed(1)} MiB`,
    `JS heap ${(day.heapBeforeKiB / 1024).toFixed(1)} → ${(day.heapAfterKiB / 1024).toFixed(1)} MiB over ${day.ticks} chores rounds`,
  );
} else line('a simulated day of chores', 'n/a (see the error above)');
writeResults('agent-verify', { date: new Date().toISOString(), summary, results }, 1);
