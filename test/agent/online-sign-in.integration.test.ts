/**
 * Online sign-in on the agent's side against a real Control Center (in-process, on loopback,
 * SQLite on disk) and the real phone core: an approval lifts the 10-failure disable (issue 4),
 * a denial is a refusal, and an approval signed by an unpaired key is refused.
 */
import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../agent/clock.js';
import { Phone, newPhoneState } from '../../phone/core/phone.js';
import { MemoryStore, systemClock } from '../../phone/core/ports.js';
import { utf8 } from '../../protocol/bytes.js';
import { makeTempDir, startInProcessAgent, writeAgentConfig, type InProcessAgent } from '../helpers/agent-harness.js';
import { eventually } from '../helpers/online-stack.js';
import { CALL, installToken, startTestCc, type TestCc } from '../control-center/helpers.js';

const USER = 'daemon';
let cc: TestCc;
let agent: InProcessAgent;
let phone: Phone;
const clock = new ManualClock({ wallMs: Date.now() });

beforeAll(async () => {
  cc = await startTestCc();
  await cc.admin.call('PUT', '/v1/admin/settings', { offlineMode: true, pinCount: 10 }, v.unknown(), CALL);
  const token = await installToken(cc);
  const files = await writeAgentConfig(await makeTempDir(), {}, { controlCenter: { url: cc.url, installToken: token, name: 'ws-sign-in' } });
  agent = await startInProcessAgent(files, { clock });
  await eventually('the agent to enroll', async () => (agent.logLines.join('').includes('workstation.managed') ? true : undefined));
  phone = await Phone.open({ store: new MemoryStore(await newPhoneState('test phone', Date.now())), clock: systemClock, connectivity: { hasNetwork: () => true } });
  const started = await agent.ask({ op: 'pair', user: USER });
  const finish = agent.ask({ op: 'pair-finish', user: USER, pairingId: JSON.parse(started.detail!).pairingId, wait: 20_000 }, 30_000);
  await phone.pair(Buffer.from(started.secret!).toString('utf8'), cc.url);
  expect(await finish).toMatchObject({ status: 'ok' });
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
      const reply = await agent.ask({ op: 'verify', user: USER, pin: utf8(`WRNG-${String(n).padStart(4, '0')}`), context: 'test' });
      expect(['rejected', 'unavailable']).toContain(reply.status);
      clock.advance(2 * 60 * 60_000); // wait out every delay of the ladder
    }
    expect(await agent.ask({ op: 'status', user: USER })).toMatchObject({ locked: true, reason: 'hammering-disabled', online: true });
    expect(await signInApproving('deny')).toMatchObject({ status: 'rejected', reason: 'denied', message: 'The sign-in was denied on your phone.' });
    expect(await agent.ask({ op: 'status', user: USER })).toMatchObject({ locked: true });
    expect(await signInApproving('approve')).toMatchObject({ status: 'accepted', message: 'Approved on your phone — unlocked.' });
    expect(await agent.ask({ op: 'status', user: USER })).toMatchObject({ locked: false });
    expect(JSON.parse((await agent.ask({ op: 'status', user: USER })).detail!)).toMatchObject({ failures: 0, disabled: false });
  }, 60_000);

  it('answers at once that a user with no paired phone cannot sign in online', async () => {
    expect(await agent.ask({ op: 'online-auth', user: 'bin', context: 'test', wait: 10_000 })).toMatchObject({ status: 'unavailable', reason: 'no-device' });
    expect(await agent.ask({ op: 'status', user: 'bin' })).toMatchObject({ online: false });
  });

  it('times out, never succeeds, when the phone does not answer', async () => {
    const started = Date.now();
    expect(await agent.ask({ op: 'online-auth', user: USER, context: 'test', wait: 1_500 })).toMatchObject({ status: 'unavailable', reason: 'timeout' });
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
