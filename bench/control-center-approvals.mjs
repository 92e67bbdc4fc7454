#!/usr/bin/env node
// Control Center benchmark (issue 4): prints figures, never asserts. A real `latchkey
// control-center` process on loopback with its SQLite store on disk; this process plays N
// workstations and N phones with real signed requests (platform/api-client.ts).
//
//   npm run build && node bench/control-center-approvals.mjs [--pairs 1,32] [--seconds 10] [--workstations 10000] [--jit]
//
// 1. Database size: enroll --workstations workstations over HTTP, checkpoint the WAL, measure
//    the database file plus its WAL, against the same database before (schema only).
// 2. Online approvals end to end on that database: each workstation in a loop creates an auth
//    request and long-polls it; its phone, long-polling its inbox, sees it, signs an approval
//    and posts it; the workstation sees "approved". Approvals per second over --seconds after a
//    2 s warm-up, the latency of each (create → approved seen) at p50/p99, and the server's CPU
//    time per approval, for each number of pairs in --pairs (1: latency unloaded; 32: throughput).
// The server runs as shipped (bin flags: --lite-mode); --jit runs it without lite mode as well.
// Results also go to bench/results/control-center-approvals.json.
import { spawn } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchOptions, dist, writeResults } from './bench-support.mjs';

const { ApiClient } = await dist('platform/api-client.js');
const { toBase64url } = await dist('protocol/online/base64url.js');
const { transcript } = await dist('protocol/online/canonical-json.js');
const { signApproval } = await dist('protocol/online/approvals.js');
const { derivePairingKey, deviceMac, newPairingSecret, signDeviceProof, workstationMac } = await dist(
  'protocol/online/pairing-keys.js',
);
const { ED25519, X25519, generateKeyPair, sign } = await dist('protocol/crypto/webcrypto.js');
const { randomBytes, sha256 } = await dist('protocol/crypto/hashes.js');
const { AGENT_NODE_FLAGS, LATCHKEY_BIN } = await dist('cli/agent-process.js');
const v = createRequire(import.meta.url)('valibot');

const options = benchOptions({
  numbers: { seconds: 10, workstations: 10_000 },
  strings: { pairs: '1,32' },
  flags: ['jit'],
});
const PAIRS = options.pairs.split(',').map(Number);
const SECONDS = options.seconds;
const WORKSTATIONS = options.workstations;
const WARMUP_MS = 2_000;
const any = v.unknown();
const CALL = { timeoutMs: 30_000 };
const LONG = { timeoutMs: 40_000 };
const encoder = new TextEncoder();
const quantile = (values, q) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))];
const ms = (value) => `${value.toFixed(value < 10 ? 2 : 1)} ms`;
const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(2)} MiB`;

async function startServer(databaseFile, jit) {
  const flags = jit ? [] : AGENT_NODE_FLAGS;
  const child = spawn(
    process.execPath,
    [
      ...flags,
      LATCHKEY_BIN,
      'control-center',
      '--db',
      databaseFile,
      '--listen',
      '127.0.0.1:0',
      '--rate-limit',
      'enroll=1000000,redeem=1000000,per-key=1000000',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  const url = await new Promise((resolveUrl, reject) => {
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      const match = /control-center\.listening url=(\S+)/.exec(stderr);
      if (match && stdout.includes('\n')) resolveUrl(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`the Control Center exited with ${code}: ${stderr}`)));
  });
  return { child, url, adminToken: /lk_admin_[A-Za-z0-9_-]{43}/.exec(stdout)[0] };
}

/** CPU time the process has used, in ms (utime + stime from /proc, at 100 ticks a second). */
function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function rssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
}

async function stopServer(server) {
  const exited = new Promise((r) => server.child.once('exit', r));
  server.child.kill('SIGTERM');
  await exited;
}

function databaseBytes(databaseFile) {
  const Database = createRequire(import.meta.url)('better-sqlite3');
  const db = new Database(databaseFile);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  const size = (file) => {
    try {
      return statSync(file).size;
    } catch {
      return 0;
    }
  };
  return {
    database: size(databaseFile),
    wal: size(`${databaseFile}-wal`),
    total: size(databaseFile) + size(`${databaseFile}-wal`),
  };
}

async function enrollOne(url, installToken, name) {
  const key = await generateKeyPair(ED25519);
  const publicKey = toBase64url(key.publicKey);
  const installTokenSha256 = toBase64url(await sha256(encoder.encode(installToken)));
  const proof = toBase64url(
    await sign(key.privateKey, transcript('latchkey-enroll-v1', { installTokenSha256, publicKey, name })),
  );
  const answer = await new ApiClient({ baseUrl: url }).call(
    'POST',
    '/v1/workstations/enroll',
    { installToken, name, publicKey, proof },
    any,
    CALL,
  );
  return {
    id: answer.workstationId,
    key,
    publicKey,
    ccKey: answer.ccKey,
    client: new ApiClient({ baseUrl: url, signer: { keyId: answer.workstationId, privateKey: key.privateKey } }),
  };
}

async function inParallel(count, concurrency, task) {
  let next = 0;
  const results = new Array(count);
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const index = next++;
        results[index] = await task(index);
      }
    }),
  );
  return results;
}

async function pairOne(url, ws, user) {
  const { pairingId } = await ws.client.call('POST', '/v1/workstation/pairings', { user }, any, CALL);
  const pairingKey = await derivePairingKey(pairingId, newPairingSecret()); // both sides derive the same key; once is enough here
  const mac = await workstationMac(pairingKey, {
    pairingId,
    workstationId: ws.id,
    workstationKey: ws.publicKey,
    user,
    ccKey: ws.ccKey,
  });
  await ws.client.call('PUT', `/v1/workstation/pairings/${pairingId}`, { workstationMac: toBase64url(mac) }, any, CALL);
  const signing = await generateKeyPair(ED25519);
  const box = await generateKeyPair(X25519);
  const keys = {
    pairingId,
    signingKey: toBase64url(signing.publicKey),
    boxKey: toBase64url(box.publicKey),
    name: `phone-${user}`,
  };
  const body = {
    ...keys,
    proof: await signDeviceProof(keys, signing.privateKey),
    deviceMac: toBase64url(await deviceMac(pairingKey, keys)),
  };
  const redeemed = await new ApiClient({ baseUrl: url }).call('POST', '/v1/devices/pair', body, any, CALL);
  await ws.client.call('GET', `/v1/workstation/pairings/${pairingId}`, undefined, any, CALL);
  await ws.client.call('POST', `/v1/workstation/pairings/${pairingId}/confirm`, { accept: true }, any, CALL);
  return {
    deviceId: redeemed.deviceId,
    signing,
    client: new ApiClient({ baseUrl: url, signer: { keyId: redeemed.deviceId, privateKey: signing.privateKey } }),
  };
}

/** The phone: long-poll the inbox, approve every request it has not answered yet. */
async function phoneLoop(phone, ws, user, stop) {
  const answered = new Set();
  while (!stop.done) {
    const inbox = await phone.client.call('GET', '/v1/device/inbox?wait=25', undefined, any, {
      ...LONG,
      signal: stop.signal,
    });
    for (const request of inbox.authRequests) {
      if (answered.has(request.requestId)) continue;
      answered.add(request.requestId);
      const fields = {
        requestId: request.requestId,
        workstationId: ws.id,
        user,
        challenge: request.challenge,
        decision: 'approve',
        deviceId: phone.deviceId,
        signedAt: Date.now(),
      };
      await phone.client.call(
        'POST',
        `/v1/device/auth-requests/${request.requestId}/decision`,
        {
          decision: 'approve',
          signedAt: fields.signedAt,
          signature: await signApproval(fields, phone.signing.privateKey),
        },
        any,
        { ...CALL, signal: stop.signal },
      );
    }
  }
}

/** The workstation: create an auth request, long-poll it until approved, again and again. */
async function workstationLoop(ws, user, stop, samples) {
  while (!stop.done) {
    const started = performance.now();
    const { requestId } = await ws.client.call(
      'POST',
      '/v1/workstation/auth-requests',
      { user, challenge: toBase64url(randomBytes(32)), ttlMs: 60_000 },
      any,
      { ...CALL, signal: stop.signal },
    );
    let status;
    do
      status = await ws.client.call('GET', `/v1/workstation/auth-requests/${requestId}?wait=25`, undefined, any, {
        ...LONG,
        signal: stop.signal,
      });
    while (status.status === 'pending');
    if (status.status !== 'approved') throw new Error(`auth request ${status.status}`);
    if (stop.measuring) samples.push(performance.now() - started);
  }
}

/** Runs the approval loops of `pairs` for a warm-up and --seconds; the figures of that window. */
async function measure(server, pairs) {
  const abort = new AbortController();
  setMaxListeners(0, abort.signal); // every loop's call listens on it
  const stop = { done: false, measuring: false, signal: abort.signal };
  const samples = [];
  const failures = [];
  // A loop that fails while measuring is reported; the ones cut off at the end are expected.
  const loops = pairs
    .flatMap(({ ws, user, phone }) => [phoneLoop(phone, ws, user, stop), workstationLoop(ws, user, stop, samples)])
    .map((loop) => loop.catch((error) => (stop.done ? undefined : failures.push(error.message))));
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  stop.measuring = true;
  const started = performance.now();
  const serverCpuBefore = cpuMs(server.child.pid);
  const clientCpuBefore = process.cpuUsage();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  stop.measuring = false;
  const seconds = (performance.now() - started) / 1000;
  const serverCpu = cpuMs(server.child.pid) - serverCpuBefore;
  const clientCpuUsage = process.cpuUsage(clientCpuBefore);
  stop.done = true;
  abort.abort();
  await Promise.all(loops);
  if (failures.length > 0)
    process.stderr.write(`${failures.length} loops failed while measuring, first: ${failures[0]}\n`);
  return {
    pairs: pairs.length,
    seconds,
    count: samples.length,
    perSecond: samples.length / seconds,
    p50Ms: quantile(samples, 0.5),
    p99Ms: quantile(samples, 0.99),
    serverCpuMsPerApproval: serverCpu / samples.length,
    clientCpuMsPerApproval: (clientCpuUsage.user + clientCpuUsage.system) / 1000 / samples.length,
  };
}

async function run(jit) {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-bench-cc-'));
  const databaseFile = join(dir, 'cc.db');
  try {
    const server = await startServer(databaseFile, jit);
    const admin = new ApiClient({ baseUrl: server.url, adminToken: server.adminToken });
    const empty = databaseBytes(databaseFile);
    const { token } = await admin.call('POST', '/v1/admin/install-tokens', { maxUses: 1_000_000 }, any, CALL);
    const enrollStarted = performance.now();
    const fleet = await inParallel(WORKSTATIONS, 32, (i) => enrollOne(server.url, token, `bench-ws-${i}`));
    const enrollSeconds = (performance.now() - enrollStarted) / 1000;
    const full = databaseBytes(databaseFile);
    const perTenThousand = ((full.total - empty.total) * 10_000) / WORKSTATIONS;

    const pairs = await inParallel(Math.max(...PAIRS), 8, async (i) => ({
      ws: fleet[i],
      user: `user${i}`,
      phone: await pairOne(server.url, fleet[i], `user${i}`),
    }));
    const approvals = [];
    for (const count of PAIRS) approvals.push(await measure(server, pairs.slice(0, count)));
    const rss = rssMiB(server.child.pid);
    await stopServer(server);
    return {
      server: jit ? 'full JIT (node bin/latchkey.js)' : 'as shipped (--lite-mode)',
      enroll: { workstations: WORKSTATIONS, seconds: enrollSeconds, perSecond: WORKSTATIONS / enrollSeconds },
      databaseBytes: { empty, full, per10000Workstations: perTenThousand },
      approvals,
      serverRssMiB: rss,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const results = [];
for (const jit of options.jit ? [false, true] : [false]) {
  const r = await run(jit);
  results.push(r);
  process.stdout.write(
    [
      `Control Center ${r.server}, SQLite on disk (WAL, synchronous=FULL), loopback`,
      `  enrollment: ${r.enroll.workstations} workstations in ${r.enroll.seconds.toFixed(1)} s (${r.enroll.perSecond.toFixed(0)}/s, 32 in flight)`,
      `  database: ${mib(r.databaseBytes.empty.total)} empty, ${mib(r.databaseBytes.full.total)} with ${r.enroll.workstations} workstations (WAL ${r.databaseBytes.full.wal} B after checkpoint)`,
      `            → ${mib(r.databaseBytes.per10000Workstations)} per 10,000 enrolled workstations (${(r.databaseBytes.per10000Workstations / 10_000).toFixed(0)} B each)`,
      ...r.approvals.flatMap((a) => [
        `  online approvals end to end, ${a.pairs} workstation+phone pair${a.pairs === 1 ? '' : 's'}: ${a.perSecond.toFixed(0)}/s over ${a.seconds.toFixed(1)} s (${a.count} approvals)`,
        `            latency create → approved seen: p50 ${ms(a.p50Ms)}, p99 ${ms(a.p99Ms)}`,
        `            CPU per approval: server ${ms(a.serverCpuMsPerApproval)} (→ ~${(1000 / a.serverCpuMsPerApproval).toFixed(0)} approvals/s per core), simulated clients ${ms(a.clientCpuMsPerApproval)}`,
      ]),
      `  server RSS after the run: ${r.serverRssMiB.toFixed(0)} MiB`,
      '',
    ].join('\n'),
  );
}
writeResults('control-center-approvals', { date: new Date().toISOString(), node: process.version, results });
