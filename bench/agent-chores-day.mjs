#!/usr/bin/env node
// A simulated day of an enrolled agent's background chores (issue 10 item 4), for
// bench/agent-verify.mjs: a Control Center and an agent enrolled with it run in this process on
// node:test's mock timers (setTimeout/setInterval only; sockets, files and the clock are real),
// the clock is moved 2 s at a time for HOURS hours while real I/O gets its turns, and RSS is
// read after enrollment and again after the day (both after a full GC). Prints one JSON line.
//
//   npm run build && node --expose-gc bench/agent-chores-day.mjs [--hours 24]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mock } from 'node:test';
import { benchOptions, dist } from './bench-support.mjs';

const { startControlCenter } = await dist('control-center/control-center.js');
const { startAgent } = await dist('agent/agent.js');
const { resolveAgentConfig } = await dist('agent/config.js');
const { createLogger, silentLogger } = await dist('platform/log.js');
const { nodeFetch } = await dist('platform/node-fetch.js');
const { ApiClient } = await dist('platform/api-client.js');
const v = await import('valibot');

const { hours } = benchOptions({ numbers: { hours: 24 } });
const CHORES_MS = 2_000;
const rssKiB = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
const settle = () => new Promise((r) => setImmediate(r));
const gc = () => globalThis.gc?.();

const dir = mkdtempSync(join(tmpdir(), 'latchkey-bench-day-'));
let cc;
let agent;
try {
  const printed = [];
  cc = await startControlCenter({
    databaseFile: join(dir, 'cc.db'),
    host: '127.0.0.1',
    port: 0,
    log: silentLogger,
    printSecretLine: (line) => printed.push(line),
  });
  const admin = new ApiClient({
    baseUrl: cc.url,
    adminToken: /lk_admin_[A-Za-z0-9_-]{43}/.exec(printed.join('\n'))[0],
  });
  await admin.call('PUT', '/v1/admin/settings', { offlineMode: true, pinCount: 10 }, v.unknown(), {
    timeoutMs: 10_000,
  });
  const { token } = await admin.call(
    'POST',
    '/v1/admin/install-tokens',
    { note: 'bench' },
    v.object({ token: v.string() }),
    { timeoutMs: 10_000 },
  );
  const json = {
    stateDir: join(dir, 'state'),
    socket: join(dir, 'agent.sock'),
    keystore: { backend: 'file', directory: join(dir, 'keystore') },
    kdf: { memoryKiB: 8, iterations: 1 },
    controlCenter: { url: cc.url, installToken: token, name: 'bench-day' },
  };
  writeFileSync(join(dir, 'agent.json'), JSON.stringify(json), { mode: 0o600 });
  mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  const lines = [];
  agent = await startAgent({
    config: resolveAgentConfig(json, join(dir, 'agent.json')),
    fetch: nodeFetch,
    log: createLogger({ level: 'info', write: (line) => lines.push(line) }),
  });
  for (let turn = 0; !lines.join('').includes('workstation.managed'); turn++) {
    if (turn > 100_000) throw new Error(`the agent did not enroll: ${lines.join('')}`);
    mock.timers.tick(10);
    await settle();
  }
  for (let i = 0; i < 30; i++) {
    mock.timers.tick(CHORES_MS);
    await settle();
  }
  gc();
  const before = rssKiB();
  const heapBefore = process.memoryUsage().heapUsed;
  const started = performance.now();
  const ticks = (hours * 3_600_000) / CHORES_MS;
  for (let i = 0; i < ticks; i++) {
    mock.timers.tick(CHORES_MS);
    await settle();
  }
  gc();
  process.stdout.write(
    `${JSON.stringify({ hours, ticks, realSeconds: Number(((performance.now() - started) / 1000).toFixed(1)), rssAfterEnrollKiB: before, rssAfterDayKiB: rssKiB(), heapBeforeKiB: Math.round(heapBefore / 1024), heapAfterKiB: Math.round(process.memoryUsage().heapUsed / 1024), logLines: lines.length, loopFaults: lines.filter((line) => line.includes('online.loop-fault')).length })}\n`,
  );
} finally {
  mock.timers.reset();
  await agent?.close();
  await cc?.close();
  rmSync(dir, { recursive: true, force: true });
}
