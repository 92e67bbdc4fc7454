#!/usr/bin/env node
// PAM benchmark (issue 3, docs/pam.md "Cost"): 100 authentications in one pamtester call
// through pam_latchkey.so and the real agent, and the same through Debian's pam_oath with an
// HOTP users file, measured in the same run on the same machine.
//
//   node bench/pam-vs-oath.mjs [--rounds 5] [--latency-samples 20]
//
// Prints milliseconds per authentication for each, the ratio, and the share of ours spent in
// the deliberate KDF (Argon2id at the agent's minimum, measured alone with the agent's
// library); the floors under ours, in the same rounds: the same module and IPC answered by
// bench/c/floor-agent.c, which only appends and fdatasyncs a record per verify (and once with
// no write at all), and by bench/floor-agent.mjs, the agent's own codec in Node doing only the
// KDF and that append; then, with the agent's default KDF (agent/offline-pin/kdf.ts), the time for a valid PIN
// at a lock screen: one pamtester process per PIN, p50/p95. Needs root (useradd, /etc/pam.d), pamtester,
// libpam-oath and oathtool; as root it installs the missing packages. Results also go to
// bench/results/pam-vs-oath.json.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { C_COMPILER, compileC } from './c/compile.mjs';
import { randomBytes } from 'node:crypto';
import { hashRaw } from '@node-rs/argon2';
import { benchOptions, ROOT, writeResults } from './bench-support.mjs';

const BIN = join(ROOT, 'bin/latchkey.js');
const MODULE = join(ROOT, 'build/Release/pam_latchkey.so');
const N = 100; // authentications per pamtester call (and the largest pool the agent issues)
const { rounds: ROUNDS, latencySamples: LATENCY_SAMPLES } = benchOptions({
  numbers: { rounds: 5, 'latency-samples': 20 },
});
const MIN_KDF = { memoryKiB: 8, iterations: 1 };
/** About the size of the agent's record on the verify path (carried verifiers: docs/state-files.md). */
const FLOOR_RECORD_BYTES = 600;
const POLICY = {
  offlineMode: true,
  pinCount: N,
  pinLength: 8,
  pinCharset: 'alphanumeric',
  offlineAccessDays: 30,
  lowPinWarnPercent: 20,
};

function need(condition, message) {
  if (!condition) {
    process.stderr.write(`pam-vs-oath: ${message}\n`);
    process.exit(1);
  }
}

function oathModulePath() {
  return [
    '/lib/x86_64-linux-gnu/security',
    '/usr/lib/x86_64-linux-gnu/security',
    '/lib/aarch64-linux-gnu/security',
    '/lib/security',
  ]
    .map((dir) => join(dir, 'pam_oath.so'))
    .find((file) => existsSync(file));
}

function prerequisites() {
  need(process.getuid?.() === 0, 'run as root (it creates a user and PAM service files)');
  const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
  const missing = [];
  if (!has('pamtester')) missing.push('pamtester');
  if (!has('oathtool')) missing.push('oathtool');
  if (!oathModulePath()) missing.push('libpam-oath');
  if (missing.length > 0) {
    process.stdout.write(`installing ${missing.join(' ')}\n`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update'], { stdio: 'ignore', env });
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { stdio: 'ignore', env });
  }
  if (!existsSync(MODULE))
    execFileSync(process.execPath, [join(ROOT, 'native/build-native.mjs'), '--require'], { stdio: 'inherit' });
  need(existsSync(join(ROOT, 'dist/cli/main.js')), 'the CLI is not compiled; run npm run build first');
}

/** The agent's own default KDF (agent/offline-pin/kdf.ts), so the figures follow it when it changes. */
let DEFAULT_KDF;
/** How the package starts the agent (cli/agent-process.ts). */
let latchkeyCommand;

const latchkey = (args, input) => {
  const run = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', input });
  if (run.status !== 0) throw new Error(`latchkey ${args[0]} failed: ${run.stderr}`);
  return run.stdout;
};

/** bench/c/floor-agent.c, built and started on SOCKET: its stop function. */
function startFloorAgent(work, name, recordBytes) {
  need(C_COMPILER !== undefined, 'no C compiler (cc, gcc or clang) to build bench/c/floor-agent.c');
  const binary = join(work, 'floor-agent');
  if (!existsSync(binary)) compileC(binary, [join(ROOT, 'bench/c/floor-agent.c')]);
  const socket = join(work, `${name}.sock`);
  const child = spawn(binary, [socket, join(work, `${name}.journal`), String(recordBytes)], { stdio: 'ignore' });
  return { socket, stop: stopper(child) };
}

/** SIGTERM, and resolve once it exited. */
function stopper(child) {
  return () =>
    new Promise((res) => {
      child.once('exit', res);
      child.kill('SIGTERM');
    });
}

/** bench/floor-agent.mjs (Node: the codec, the KDF at the minimum, the append) on SOCKET. */
function startNodeFloorAgent(work, recordBytes) {
  const socket = join(work, 'floor-node.sock');
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'bench/floor-agent.mjs'),
      socket,
      join(work, 'floor-node.journal'),
      String(recordBytes),
      String(MIN_KDF.memoryKiB),
      String(MIN_KDF.iterations),
    ],
    { stdio: 'ignore' },
  );
  return { socket, stop: stopper(child) };
}

const agentDirs = [];
async function startAgent(dir, kdf) {
  agentDirs.push(dir);
  chmodSync(dir, 0o755);
  const config = join(dir, 'agent.json');
  writeFileSync(config, JSON.stringify(kdf ? { policy: POLICY, kdf } : { policy: { ...POLICY, pinCount: 25 } }), {
    mode: 0o644,
  });
  const socket = join(dir, 'run/agent.sock');
  // As shipped: the bin's V8 flags (cli/agent-process.ts), which `node BIN` alone would drop.
  const run = latchkeyCommand([
    'agent',
    '--state-dir',
    join(dir, 'state'),
    '--socket',
    socket,
    '--config',
    config,
    '--log-level',
    'error',
  ]);
  const child = spawn(run.command, run.args, { stdio: 'ignore' });
  for (let i = 0; i < 400; i++) {
    const up = await new Promise((res) =>
      net
        .connect(socket)
        .once('connect', function () {
          this.destroy();
          res(true);
        })
        .once('error', () => res(false)),
    );
    if (up)
      return {
        socket,
        stop: () =>
          new Promise((res) => {
            child.once('exit', res);
            child.kill('SIGTERM');
          }),
      };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the agent did not start');
}

function pamtester(service, user, answers, count) {
  const started = process.hrtime.bigint();
  const run = spawnSync('pamtester', [service, user, ...Array(count).fill('authenticate')], {
    input: `${answers.join('\n')}\n`,
    encoding: 'utf8',
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const successes = (run.stdout + run.stderr).split('successfully authenticated').length - 1;
  if (run.status !== 0 || successes !== count)
    throw new Error(`pamtester: ${successes}/${count} succeeded: ${run.stderr.slice(-500)}`);
  return ms;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];

async function main() {
  prerequisites();
  ({ DEFAULT_KDF } = await import(join(ROOT, 'dist/agent/offline-pin/kdf.js')));
  ({ latchkeyCommand } = await import(join(ROOT, 'dist/cli/agent-process.js')));
  const user = `lkbench${process.pid % 10000}`;
  const work = mkdtempSync('/tmp/latchkey-bench-');
  const services = [];
  const service = (name, line) => {
    const file = `/etc/pam.d/latchkey-bench-${process.pid}-${name}`;
    writeFileSync(file, `${line}\naccount required pam_permit.so\n`);
    services.push(file);
    return file.split('/').pop();
  };
  spawnSync('userdel', ['-r', user], { stdio: 'ignore' });
  execFileSync('useradd', ['-M', user]);
  let agent;
  try {
    // --- pam_oath: HOTP users file (../shared/notes/setup-recipes.md) ---
    const key = randomBytes(20).toString('hex');
    const oathDir = join(work, 'oath');
    mkdirSync(oathDir, { mode: 0o700 });
    const usersFile = join(oathDir, 'users');
    writeFileSync(usersFile, `HOTP/E/8\t${user}\t-\t${key}\n`, { mode: 0o600 });
    const oath = service('oath', `auth required ${oathModulePath()} usersfile=${usersFile} window=20 digits=8`);
    let oathCounter = 0;
    const oathCodes = (count) => {
      const out = execFileSync(
        'oathtool',
        ['--hotp', '-d', '8', '-c', String(oathCounter), '-w', String(count - 1), key],
        { encoding: 'utf8' },
      );
      oathCounter += count;
      return out.trim().split('\n');
    };

    // --- pam_latchkey with the KDF at its minimum ---
    agent = await startAgent(mkdtempSync('/tmp/latchkey-bench-agent-'), MIN_KDF);
    const ours = service('latchkey', `auth required ${MODULE} socket=${agent.socket} timeout=5000`);
    const freshPins = () => {
      const uri = JSON.parse(latchkey(['enroll', '--user', user, '--socket', agent.socket, '--json'])).uri;
      return latchkey(['pins', '--uri', uri, '--from', '0', '--count', String(N)])
        .trim()
        .split('\n');
    };

    // --- the floor: the same module and IPC, an agent that only makes its record durable ---
    const floors = [
      startFloorAgent(work, 'floor', FLOOR_RECORD_BYTES),
      startFloorAgent(work, 'floor-nosync', 0),
      startNodeFloorAgent(work, FLOOR_RECORD_BYTES),
    ];
    for (let i = 0; i < 100 && !existsSync(floors[2].socket); i++) await new Promise((r) => setTimeout(r, 50));
    const floorService = service('floor', `auth required ${MODULE} socket=${floors[0].socket} timeout=5000`);
    const noSyncService = service('floor-nosync', `auth required ${MODULE} socket=${floors[1].socket} timeout=5000`);
    const nodeFloorService = service('floor-node', `auth required ${MODULE} socket=${floors[2].socket} timeout=5000`);
    const anyPins = Array(N).fill('0000-0000');

    pamtester(oath, user, oathCodes(10), 10); // warm-up: page cache, dynamic loader
    pamtester(ours, user, freshPins().slice(0, 10), 10);
    pamtester(floorService, user, anyPins.slice(0, 10), 10);
    pamtester(nodeFloorService, user, anyPins.slice(0, 10), 10);
    const perAuth = { latchkey: [], oath: [], floor: [], floorNoSync: [], nodeFloor: [] };
    for (let round = 0; round < ROUNDS; round++) {
      const pins = freshPins();
      perAuth.oath.push(pamtester(oath, user, oathCodes(N), N) / N);
      perAuth.latchkey.push(pamtester(ours, user, pins, N) / N);
      perAuth.floor.push(pamtester(floorService, user, anyPins, N) / N);
      perAuth.floorNoSync.push(pamtester(noSyncService, user, anyPins, N) / N);
      perAuth.nodeFloor.push(pamtester(nodeFloorService, user, anyPins, N) / N);
    }
    await agent.stop();
    agent = undefined;
    await Promise.all(floors.map((floor) => floor.stop()));

    // --- the deliberate KDF alone, with the agent's library and the same parameters ---
    const kdfMs = async (params, count) => {
      const salt = randomBytes(16);
      const once = () =>
        hashRaw(Buffer.from('K7QM2XHD'), {
          algorithm: 2,
          version: 1,
          memoryCost: params.memoryKiB,
          timeCost: params.iterations,
          parallelism: 1,
          outputLen: 32,
          salt,
        });
      await once(); // warm: the first evaluation also pays for mapping its memory
      const times = [];
      for (let i = 0; i < count; i++) {
        const started = process.hrtime.bigint();
        await once();
        times.push(Number(process.hrtime.bigint() - started) / 1e6);
      }
      return median(times);
    };
    const kdfMin = await kdfMs(MIN_KDF, 2000);
    const kdfDefault = await kdfMs(DEFAULT_KDF, 15);

    // --- default settings: one lock-screen unlock per pamtester process ---
    agent = await startAgent(mkdtempSync('/tmp/latchkey-bench-agent-'), null);
    const lockScreen = service('default', `auth required ${MODULE} socket=${agent.socket} timeout=5000`);
    const latencies = [];
    while (latencies.length < LATENCY_SAMPLES) {
      const uri = JSON.parse(latchkey(['enroll', '--user', user, '--socket', agent.socket, '--json'])).uri;
      const pins = latchkey(['pins', '--uri', uri, '--from', '0', '--count', '20']).trim().split('\n');
      for (const pin of pins.slice(0, Math.min(20, LATENCY_SAMPLES - latencies.length)))
        latencies.push(pamtester(lockScreen, user, [pin], 1));
    }
    await agent.stop();
    agent = undefined;

    const ms = {
      latchkey: median(perAuth.latchkey),
      oath: median(perAuth.oath),
      floor: median(perAuth.floor),
      floorNoSync: median(perAuth.floorNoSync),
      nodeFloor: median(perAuth.nodeFloor),
    };
    const result = {
      machine: `${process.arch}, ${(await import('node:os')).availableParallelism()} cores, node ${process.version}`,
      command: `node bench/pam-vs-oath.mjs --rounds ${ROUNDS} --latency-samples ${LATENCY_SAMPLES}`,
      authenticationsPerCall: N,
      rounds: ROUNDS,
      msPerAuth: {
        latchkey: ms.latchkey,
        pamOath: ms.oath,
        latchkeyAllRounds: perAuth.latchkey,
        pamOathAllRounds: perAuth.oath,
      },
      floor: {
        recordBytes: FLOOR_RECORD_BYTES,
        msPerAuth: ms.floor,
        withoutWriteMsPerAuth: ms.floorNoSync,
        ratio: ms.floor / ms.oath,
        allRounds: perAuth.floor,
      },
      nodeFloor: { msPerAuth: ms.nodeFloor, ratio: ms.nodeFloor / ms.oath, allRounds: perAuth.nodeFloor },
      ratio: ms.latchkey / ms.oath,
      kdf: { minimumMs: kdfMin, shareOfOurs: kdfMin / ms.latchkey, default: DEFAULT_KDF, defaultMs: kdfDefault },
      defaultSettings: {
        samples: latencies.length,
        p50Ms: pct(latencies, 50),
        p95Ms: pct(latencies, 95),
        kdfShareOfP50: kdfDefault / pct(latencies, 50),
      },
    };
    const f = (x) => x.toFixed(3);
    process.stdout.write(
      [
        `pam_latchkey vs pam_oath, ${N} authentications per pamtester call, median of ${ROUNDS} rounds (${result.machine})`,
        `  pam_latchkey (Argon2id m=8 KiB t=1): ${f(ms.latchkey)} ms per authentication`,
        `  pam_oath (HOTP users file):          ${f(ms.oath)} ms per authentication`,
        `  ratio latchkey / oath:               ${result.ratio.toFixed(2)}x (target <= 1.25x)`,
        `  deliberate KDF (one Argon2id, m=8 KiB t=1, median): ${f(kdfMin)} ms = ${(100 * result.kdf.shareOfOurs).toFixed(1)}% of ours`,
        `  floor: the same module and IPC, a C agent that only appends + fdatasyncs ${FLOOR_RECORD_BYTES} B per verify: ${f(ms.floor)} ms (${result.floor.ratio.toFixed(2)}x pam_oath); without the write: ${f(ms.floorNoSync)} ms`,
        `  floor in Node: the agent's codec on a plain net server, only the KDF and that append: ${f(ms.nodeFloor)} ms (${result.nodeFloor.ratio.toFixed(2)}x pam_oath)`,
        `  so beyond the C floor the agent costs ${f(ms.latchkey - ms.floor)} ms per authentication, ${f(ms.nodeFloor - ms.floor)} ms of it for the KDF and answering from Node at all`,
        `default settings (Argon2id m=${DEFAULT_KDF.memoryKiB / 1024} MiB t=${DEFAULT_KDF.iterations}, one evaluation alone, median ${kdfDefault.toFixed(1)} ms), valid PIN, one pamtester process each:`,
        `  p50 ${result.defaultSettings.p50Ms.toFixed(1)} ms, p95 ${result.defaultSettings.p95Ms.toFixed(1)} ms over ${latencies.length} unlocks (target p50 <= 100 ms); KDF share of p50 ${(100 * result.defaultSettings.kdfShareOfP50).toFixed(0)}%`,
        '',
      ].join('\n'),
    );
    writeResults('pam-vs-oath', result);
  } finally {
    if (agent) await agent.stop();
    for (const file of services) rmSync(file, { force: true });
    spawnSync('userdel', ['-r', user], { stdio: 'ignore' });
    rmSync(work, { recursive: true, force: true });
    for (const dir of agentDirs) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
