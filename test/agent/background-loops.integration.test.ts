/**
 * Issue 10 item 4: the agent's background loops (chores every 2 s, the inbox and policy
 * long-polls, replenishment) wait through one abortable sleep that leaves no listener behind
 * (platform/abortable-sleep.ts). An enrolled agent and its Control Center run here for a simulated
 * day on fake timers (setTimeout/setInterval only: sockets, files and the clock are real), and
 * no AbortSignal ever holds more than a handful of 'abort' listeners — before the fix, one more
 * piled up on the agent's signal every 2 s, and Node warned after 20 s.
 */
import { getEventListeners } from 'node:events';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { abortableSleep } from '../../platform/abortable-sleep.js';
import { makeTempDir, startInProcessAgent, writeAgentConfig, type InProcessAgent } from '../helpers/agent-harness.js';
import { installToken, startTestCc, type TestCc, putSettings } from '../control-center/helpers.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** The real setTimeout, kept before any test fakes the timers. */
const realSetTimeout = globalThis.setTimeout;
const CHORES_MS = 2_000;

/** Every AbortSignal that gained an 'abort' listener here, to count them afterwards. */
const watched = new Set<AbortSignal>();
let added = 0;
const original = AbortSignal.prototype.addEventListener;

beforeAll(() => {
  AbortSignal.prototype.addEventListener = function (this: AbortSignal, type: string, ...rest: unknown[]) {
    if (type === 'abort') {
      watched.add(this);
      added += 1;
    }
    return (original as (...args: unknown[]) => void).call(this, type, ...rest);
  } as typeof AbortSignal.prototype.addEventListener;
});
afterAll(() => {
  AbortSignal.prototype.addEventListener = original;
});

const mostListeners = () => Math.max(0, ...[...watched].map((signal) => getEventListeners(signal, 'abort').length));

describe('abortableSleep', () => {
  it('a simulated day of 2-second waits on one long-lived signal leaves no listener on it', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const stop = new AbortController();
      let peak = 0;
      for (let elapsed = 0; elapsed < DAY_MS; elapsed += CHORES_MS) {
        const waiting = abortableSleep(CHORES_MS, stop.signal, undefined);
        peak = Math.max(peak, getEventListeners(stop.signal, 'abort').length);
        await vi.advanceTimersByTimeAsync(CHORES_MS);
        await waiting;
      }
      expect(peak).toBe(1);
      expect(getEventListeners(stop.signal, 'abort')).toHaveLength(0);
      const cut = abortableSleep(60_000, stop.signal);
      stop.abort();
      await cut; // ends at once when the signal aborts, though its timer had a minute to run
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('an enrolled agent for a simulated day', () => {
  let cc: TestCc;
  let agent: InProcessAgent;
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);

  beforeAll(async () => {
    cc = await startTestCc();
    await putSettings(cc, { offlineMode: true, pinCount: 10 });
    const files = await writeAgentConfig(
      await makeTempDir(),
      {},
      { controlCenter: { url: cc.url, installToken: await installToken(cc), name: 'ws-a-day' } },
    );
    process.on('warning', onWarning);
    // Every wait the agent (and the CC) starts is on the fake clock; sockets and files stay real.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    agent = await startInProcessAgent(files);
    // Enrollment is real HTTP, Ed25519 and SQLite: wait for it on the real clock (Date is not
    // faked), letting the fake one run no faster than the real one, so no timeout of the agent's
    // fires early on a loaded machine.
    const deadline = Date.now() + 50_000;
    while (!agent.logLines.join('').includes('workstation.managed')) {
      if (Date.now() > deadline) throw new Error(`the agent did not enroll:\n${agent.logLines.join('')}`);
      await vi.advanceTimersByTimeAsync(5);
      await new Promise((resolve) => realSetTimeout(resolve, 5));
    }
  }, 60_000);
  afterAll(async () => {
    vi.useRealTimers();
    process.off('warning', onWarning);
    await agent?.close();
    await cc?.close();
  });

  it('runs its chores every 2 s all day, and no signal collects listeners', async () => {
    const addedBefore = added;
    let peak = 0;
    for (let elapsed = 0; elapsed < DAY_MS; elapsed += CHORES_MS) {
      await vi.advanceTimersByTimeAsync(CHORES_MS);
      await new Promise((resolve) => setImmediate(resolve)); // real I/O (the long-polls to the CC) gets its turn
      if (elapsed % (60 * 60 * 1000) === 0) peak = Math.max(peak, mostListeners());
    }
    peak = Math.max(peak, mostListeners());
    expect(added - addedBefore).toBeGreaterThanOrEqual(DAY_MS / CHORES_MS); // a wait at least every 2 s: the loops ran all day
    expect(peak).toBeLessThanOrEqual(10);
    expect(warnings.filter((warning) => warning.name === 'MaxListenersExceededWarning')).toEqual([]);
    expect(agent.logLines.join('')).not.toContain('online.loop-fault');
  }, 600_000);
});
