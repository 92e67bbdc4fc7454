/**
 * `kill -9` of the agent at random points during hundreds of verifications: no PIN is ever
 * accepted twice and the state is always readable afterwards (docs/offline-pins.md
 * "Accepting a PIN", docs/state-files.md "Writing is durable before the reply").
 */
import { afterAll, describe, expect, it } from 'vitest';
import { askAgent } from '../../cli/agent-client.js';
import { utf8 } from '../../protocol/bytes.js';
import type { Reply } from '../../protocol/ipc-messages.js';
import { Phone, makeTempDir, spawnAgent, writeAgentConfig, type AgentProcess } from '../helpers/agent-harness.js';

const USER = 'daemon';
let agent: AgentProcess | undefined;
afterAll(() => agent?.stop('SIGKILL'));

function busyWaitMicros(micros: number) {
  const until = performance.now() + micros / 1000;
  while (performance.now() < until) {
    // spin: a timer's millisecond granularity would miss the interesting window
  }
}

describe('crash safety', () => {
  it('never accepts a PIN twice and never leaves unreadable state, however often the agent is killed', async () => {
    const files = await writeAgentConfig(await makeTempDir(), { offlineMode: true, pinCount: 100 });
    agent = await spawnAgent(files);
    const ask = (request: Parameters<typeof askAgent>[1]) => askAgent(files.socket, request, 5_000);
    const acceptedCount = new Map<string, number>();
    let verifications = 0;
    let kills = 0;
    let lostReplies = 0;

    const restart = async () => {
      await agent!.stop('SIGKILL');
      kills++;
      agent = await spawnAgent(files);
      const status = await ask({ op: 'status', user: USER });
      expect(status.status, `status after kill ${kills}: ${status.reason} ${status.message}`).toBe('ok');
    };
    const record = (phone: Phone, counter: number, reply: Reply) => {
      verifications++;
      // Refusals are fine (a replay, or a replay once the pool is used up); faults are not.
      expect(
        ['accepted', 'rejected', 'unavailable/pools-exhausted'],
        `verify ${counter}: ${reply.reason} ${reply.message}`,
      ).toContain(reply.status === 'unavailable' ? `unavailable/${reply.reason}` : reply.status);
      if (reply.status !== 'accepted') return;
      const key = `${phone.imported.seed.join(',')}#${counter}`;
      acceptedCount.set(key, (acceptedCount.get(key) ?? 0) + 1);
      expect(acceptedCount.get(key), `PIN ${counter} accepted twice`).toBe(1);
    };

    for (let round = 0; round < 3; round++) {
      const enrolled = await ask({ op: 'enroll', user: USER });
      expect(enrolled.status).toBe('ok');
      const phone = new Phone(enrolled.secret!);
      let lastAccepted = -1;
      for (let counter = 0; counter < 100; counter++) {
        const pending = ask({ op: 'verify', user: USER, pin: utf8(phone.pin(counter)), context: 'crash-test' });
        const kill = Math.random() < 0.12;
        if (kill) {
          busyWaitMicros(Math.random() * 1500);
          agent.child.kill('SIGKILL');
        }
        const reply = await pending.catch(() => null);
        if (reply) record(phone, counter, reply);
        if (reply?.status === 'accepted') lastAccepted = counter;
        if (!kill) continue;
        await restart();
        // The PIN whose answer was lost was either consumed (refused now) or not (accepted now).
        if (!reply) {
          lostReplies++;
          const again = await ask({ op: 'verify', user: USER, pin: utf8(phone.pin(counter)), context: 'crash-test' });
          record(phone, counter, again);
          if (again.status === 'accepted') lastAccepted = counter;
        }
        // A PIN whose acceptance was acknowledged is never accepted again.
        if (lastAccepted >= 0)
          record(
            phone,
            lastAccepted,
            await ask({ op: 'verify', user: USER, pin: utf8(phone.pin(lastAccepted)), context: 'crash-test' }),
          );
      }
    }
    expect(verifications).toBeGreaterThanOrEqual(300);
    expect(kills).toBeGreaterThanOrEqual(10);
    // Most kills land while a verification is in flight: its answer is lost, its outcome unknown.
    expect(lostReplies).toBeGreaterThanOrEqual(5);
    console.log(`crash test: ${verifications} verifications, ${kills} kills, ${lostReplies} answers lost in flight`);
    const list = JSON.parse((await ask({ op: 'list' })).detail!);
    expect(list.unreadable).toEqual([]);
  }, 240_000);
});
