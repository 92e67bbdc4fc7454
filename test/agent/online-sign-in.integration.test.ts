/**
 * Online sign-in on the agent's side against a real Control Center (in-process, on loopback,
 * SQLite on disk) and the real phone core: an approval lifts the 10-failure disable (issue 4),
 * a denial is a refusal, and an approval signed by an unpaired key is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../platform/clock.js';
import type { Phone } from '../../phone/core/phone.js';
import { utf8 } from '../../protocol/bytes.js';
import type { InProcessAgent } from '../helpers/agent-harness.js';
import { newPhoneApp, pairThroughAgentInProcess, startManagedAgent } from '../helpers/managed-agent.js';
import { eventually } from '../helpers/online-stack.js';
import { startTestCc, type TestCc } from '../control-center/helpers.js';

const USER = 'daemon';
let cc: TestCc;
let agent: InProcessAgent;
let phone: Phone;
const clock = new ManualClock({ wallMs: Date.now() });

beforeAll(async () => {
  cc = await startTestCc();
  agent = await startManagedAgent(cc, { name: 'ws-sign-in', agent: { clock } });
  phone = await newPhoneApp('test phone');
  expect(await pairThroughAgentInProcess(agent, USER, phone, cc.url)).toMatchObject({ status: 'ok' });
}, 60_000);

afterAll(async () => {
  await agent?.close();
  await cc?.close();
});

async function signInApproving(decision: 'approve' | 'deny') {
  const answer = agent.ask({ op: 'online-auth', user: USER, context: 'test', wait: 15_000 }, 20_000);
  const pending = await eventually('the request on the phone', async () => (await phone.pendingRequests())[0]);
  await phone.decide(pending.request.requestId, decision);
  return answer;
}

describe('online sign-in through a real Control Center', () => {
  it('an approval unlocks and lifts the 10-failure disable; a denial is refused', async () => {
    // A first sign-in brings the first pool (R2, R9): failures count only against a pool.
    expect(await signInApproving('approve')).toMatchObject({ status: 'accepted' });
    await eventually('the pool on the phone and confirmed', async () => {
      await phone.serveRound({ waitSeconds: 1 });
      return (await agent.ask({ op: 'status', user: USER })).usable ? true : undefined;
    });
    for (let n = 1; n <= 10; n++) {
      const reply = await agent.ask({
        op: 'verify',
        user: USER,
        pin: utf8(`WRNG-${String(n).padStart(4, '0')}`),
        context: 'test',
      });
      expect(['rejected', 'unavailable']).toContain(reply.status);
      clock.advance(2 * 60 * 60_000); // wait out every delay of the ladder
    }
    expect(await agent.ask({ op: 'status', user: USER })).toMatchObject({
      locked: true,
      reason: 'hammering-disabled',
      online: true,
    });
    expect(await signInApproving('deny')).toMatchObject({
      status: 'rejected',
      reason: 'denied',
      message: 'The sign-in was denied on your phone.',
    });
    expect(await agent.ask({ op: 'status', user: USER })).toMatchObject({ locked: true });
    expect(await signInApproving('approve')).toMatchObject({
      status: 'accepted',
      message: 'Approved on your phone — unlocked.',
    });
    expect(await agent.ask({ op: 'status', user: USER })).toMatchObject({ locked: false });
    expect(JSON.parse((await agent.ask({ op: 'status', user: USER })).detail!)).toMatchObject({
      failures: 0,
      disabled: false,
    });
  }, 60_000);

  it('answers at once that a user with no paired phone cannot sign in online', async () => {
    expect(await agent.ask({ op: 'online-auth', user: 'bin', context: 'test', wait: 10_000 })).toMatchObject({
      status: 'unavailable',
      reason: 'no-device',
    });
    expect(await agent.ask({ op: 'status', user: 'bin' })).toMatchObject({ online: false });
  });

  it('times out, never succeeds, when the phone does not answer', async () => {
    const started = Date.now();
    expect(await agent.ask({ op: 'online-auth', user: USER, context: 'test', wait: 1_500 })).toMatchObject({
      status: 'unavailable',
      reason: 'timeout',
    });
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
