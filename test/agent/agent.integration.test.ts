/**
 * The agent for real: an in-process agent (so the clock can be moved by hand) on a temp
 * directory, answering over its Unix socket, with sealed files and the file keystore on disk.
 * Users are real accounts that exist on every Debian system (daemon, bin, sys).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../platform/clock.js';
import { stateFileName } from '../../agent/state/user-state-store.js';
import { enroll, makeTempDir, startInProcessAgent, verifyWith, writeAgentConfig } from '../helpers/agent-harness.js';
import type { InProcessAgent } from '../helpers/agent-harness.js';

const MINUTE = 60_000;
const ON = { offlineMode: true, pinCount: 10 };
const running: InProcessAgent[] = [];

async function start(policy: Record<string, unknown> = ON, clock = new ManualClock(), dir?: string) {
  const files = await writeAgentConfig(dir ?? (await makeTempDir()), policy);
  const agent = await startInProcessAgent(files, { clock });
  running.push(agent);
  return { agent, clock, files, ask: agent.ask };
}

async function restart(previous: InProcessAgent, clock: ManualClock) {
  await previous.close();
  running.splice(running.indexOf(previous), 1);
  const agent = await startInProcessAgent(previous.files, { clock });
  running.push(agent);
  return agent;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((agent) => agent.close()));
});

describe('offline mode and enrollment (R1, R2)', () => {
  it('with embedded defaults offline mode is off: no PIN is accepted and none can be issued', async () => {
    const { ask } = await start({});
    const status = await ask({ op: 'status', user: 'daemon' });
    expect(status).toMatchObject({
      status: 'ok',
      offlineMode: false,
      usable: false,
      message: 'Offline PINs are not enabled on this computer.',
    });
    expect(await verifyWith(ask, 'daemon', 'ABCD-EFGH')).toMatchObject({
      status: 'unavailable',
      reason: 'offline-mode-off',
    });
    expect(await ask({ op: 'enroll', user: 'daemon' })).toMatchObject({
      status: 'unavailable',
      reason: 'offline-mode-off',
    });
  });

  it('refuses to enroll an account that does not exist', async () => {
    const { ask } = await start();
    expect(await ask({ op: 'enroll', user: 'no-such-user-latchkey' })).toMatchObject({
      status: 'error',
      reason: 'unknown-user',
    });
  });

  it('enrolls, reports status, accepts the next PIN once and refuses its replay', async () => {
    const { ask } = await start();
    const phone = await enroll(ask, 'daemon');
    expect(await ask({ op: 'status', user: 'daemon' })).toMatchObject({
      status: 'ok',
      offlineMode: true,
      usable: true,
      remaining: 10,
      locked: false,
      message: '10 offline PINs left.',
    });
    expect(await verifyWith(ask, 'daemon', phone.pin(0))).toMatchObject({
      status: 'accepted',
      remaining: 9,
      low: false,
      message: 'Unlocked — 9 offline PINs left.',
    });
    expect(await verifyWith(ask, 'daemon', phone.pin(0))).toMatchObject({ status: 'rejected', reason: 'wrong-pin' });
    expect(await verifyWith(ask, 'daemon', phone.pin(3))).toMatchObject({ status: 'accepted', remaining: 6 });
    expect(await verifyWith(ask, 'daemon', phone.pin(2))).toMatchObject({ status: 'rejected', reason: 'wrong-pin' });
  });

  it("re-enrolling replaces the pool: the old seed's PINs die", async () => {
    const { ask } = await start();
    const old = await enroll(ask, 'daemon');
    const fresh = await enroll(ask, 'daemon');
    expect(await verifyWith(ask, 'daemon', old.pin(0))).toMatchObject({ status: 'rejected' });
    expect(await verifyWith(ask, 'daemon', fresh.pin(0))).toMatchObject({ status: 'accepted', remaining: 9 });
  });

  it('supports several authenticators per user, each with its own pool, and unenrolls one', async () => {
    const { ask } = await start();
    const phone = await enroll(ask, 'daemon', 'phone');
    const tablet = await enroll(ask, 'daemon', 'tablet');
    expect(await verifyWith(ask, 'daemon', tablet.pin(0))).toMatchObject({ status: 'accepted', remaining: 9 });
    expect(await verifyWith(ask, 'daemon', phone.pin(0))).toMatchObject({ status: 'accepted', remaining: 9 });
    expect(await ask({ op: 'unenroll', user: 'daemon', authenticator: 'tablet' })).toMatchObject({ status: 'ok' });
    expect(await verifyWith(ask, 'daemon', tablet.pin(1))).toMatchObject({ status: 'rejected' });
    expect(await ask({ op: 'unenroll', user: 'daemon', authenticator: 'tablet' })).toMatchObject({
      status: 'error',
      reason: 'not-enrolled',
    });
  });
});

describe('exhaustion and expiry messages', () => {
  it('warns when low, says which PIN was the last, then says there are none left', async () => {
    const { ask } = await start();
    const phone = await enroll(ask, 'daemon');
    const messages: string[] = [];
    for (let c = 0; c < 10; c++) messages.push((await verifyWith(ask, 'daemon', phone.pin(c))).message!);
    expect(messages.slice(6)).toEqual([
      'Unlocked — 3 offline PINs left.',
      '2 offline PINs left — sign in once online to get more.',
      '1 offline PIN left — sign in once online to get more.',
      'That was your last offline PIN — sign in once online to get new ones.',
    ]);
    expect(await verifyWith(ask, 'daemon', phone.pin(9))).toMatchObject({
      status: 'unavailable',
      reason: 'pools-exhausted',
      message: 'No offline PINs left — sign in once online to get new ones.',
    });
    expect(await ask({ op: 'status', user: 'daemon' })).toMatchObject({ usable: false, remaining: 0 });
  });

  it('expires pools after offlineAccessDays', async () => {
    const { ask, clock } = await start();
    const phone = await enroll(ask, 'daemon');
    clock.advance(30 * 24 * 60 * MINUTE);
    expect(await verifyWith(ask, 'daemon', phone.pin(0))).toMatchObject({
      status: 'unavailable',
      reason: 'pools-expired',
      message: 'Your offline PINs have expired — sign in once online to get new ones.',
    });
  });

  it('a user with no pool is told so and is not prompted', async () => {
    const { ask } = await start();
    expect(await ask({ op: 'status', user: 'bin' })).toMatchObject({
      usable: false,
      message: 'No offline PINs are set up for you on this computer.',
    });
    expect(await verifyWith(ask, 'bin', '1234-5678')).toMatchObject({ status: 'unavailable', reason: 'no-pool' });
  });
});

describe('anti-hammering through the agent', () => {
  /** A distinct wrong PIN of the right shape for each n. */
  async function wrong(ask: InProcessAgent['ask'], n: number) {
    return verifyWith(ask, 'daemon', `0000-${String(n).padStart(4, '0')}`);
  }

  it('walks every ladder step, persisting each across a restart and the clock set back', async () => {
    const { ask: firstAsk, clock, agent: first } = await start();
    const phone = await enroll(firstAsk, 'daemon');
    let agent = first;
    const steps = [0, 0, 0, 0, 1, 5, 15, 15, 60];
    for (let n = 1; n <= 9; n++) {
      const reply = await wrong(agent.ask, n);
      expect(reply.status, `failure ${n}`).toBe('rejected');
      expect(reply.retryAfter ?? 0).toBe(steps[n - 1]! * 60);
      if (steps[n - 1] === 0) continue;
      expect(reply.message).toBe(
        `That PIN didn't work. Too many attempts — try again in ${steps[n - 1] === 60 ? '1 hour' : steps[n - 1] === 1 ? '1 minute' : `${steps[n - 1]} minutes`}.`,
      );
      // Restart the agent and set the wall clock back a day: the delay is still there, unchecked.
      agent = await restart(agent, clock);
      clock.setWall(clock.now().wallMs - 24 * 60 * MINUTE);
      const locked = await verifyWith(agent.ask, 'daemon', phone.pin(0));
      expect(locked).toMatchObject({ status: 'locked', reason: 'hammering-delay', retryAfter: steps[n - 1]! * 60 });
      clock.advance(steps[n - 1]! * MINUTE - 1000);
      expect(await verifyWith(agent.ask, 'daemon', phone.pin(0))).toMatchObject({ status: 'locked', retryAfter: 1 });
      clock.advance(1000);
    }
    const tenth = await wrong(agent.ask, 10);
    expect(tenth).toMatchObject({ status: 'rejected', reason: 'hammering-disabled' });
    agent = await restart(agent, clock);
    clock.advance(7 * 24 * 60 * MINUTE);
    expect(await verifyWith(agent.ask, 'daemon', phone.pin(0))).toMatchObject({
      status: 'locked',
      reason: 'hammering-disabled',
      message: 'Offline PINs are off after too many attempts — sign in online or ask IT to reset.',
    });
    expect(await agent.ask({ op: 'status', user: 'daemon' })).toMatchObject({ locked: true, usable: true });
    expect(await agent.ask({ op: 'reset', user: 'daemon', discardState: false })).toMatchObject({ status: 'ok' });
    expect(await verifyWith(agent.ask, 'daemon', phone.pin(0))).toMatchObject({ status: 'accepted' });
  }, 60_000);

  it('a reboot with the clock set back never shortens a delay; real time off does count', async () => {
    const { ask, clock, agent: first } = await start();
    const phone = await enroll(ask, 'daemon');
    for (let n = 1; n <= 5; n++) await wrong(ask, n);
    clock.advance(MINUTE);
    expect(await wrong(ask, 6)).toMatchObject({ status: 'rejected', retryAfter: 300 });
    let agent = await restart(first, clock);
    clock.reboot();
    clock.setWall(clock.now().wallMs - 3 * 24 * 60 * MINUTE);
    expect(await verifyWith(agent.ask, 'daemon', phone.pin(0))).toMatchObject({ status: 'locked', retryAfter: 300 });
    agent = await restart(agent, clock);
    clock.reboot(2 * MINUTE);
    expect((await verifyWith(agent.ask, 'daemon', phone.pin(0))).retryAfter).toBeLessThanOrEqual(300);
  });

  it('counts the same wrong PIN once, however it is spaced or cased', async () => {
    const { ask } = await start();
    await enroll(ask, 'daemon');
    for (const typed of ['abcd-efgh', 'ABCD EFGH', 'ABCDEFGH', 'abcdefgh', 'AbCd-EfGh', 'abcd-efgh']) {
      expect(await verifyWith(ask, 'daemon', typed)).toMatchObject({ status: 'rejected', reason: 'wrong-pin' });
    }
    const status = await ask({ op: 'status', user: 'daemon' });
    expect(JSON.parse(status.detail!)).toMatchObject({ failures: 1, locked: false });
  });

  it("keeps users apart: another user's PIN fails and counts against the one who typed it", async () => {
    const { ask } = await start();
    const daemon = await enroll(ask, 'daemon');
    const bin = await enroll(ask, 'bin');
    expect(await verifyWith(ask, 'bin', daemon.pin(0))).toMatchObject({ status: 'rejected' });
    expect(JSON.parse((await ask({ op: 'status', user: 'bin' })).detail!)).toMatchObject({ failures: 1 });
    expect(JSON.parse((await ask({ op: 'status', user: 'daemon' })).detail!)).toMatchObject({ failures: 0 });
    expect(await verifyWith(ask, 'daemon', daemon.pin(0))).toMatchObject({ status: 'accepted' });
    expect(await verifyWith(ask, 'bin', bin.pin(0))).toMatchObject({ status: 'accepted' });
  });
});

describe('state that cannot be read fails closed, for that user only', () => {
  it('a corrupt state file denies with a clear reason, the agent keeps serving others, and an admin can discard it', async () => {
    const { ask, files } = await start();
    const daemon = await enroll(ask, 'daemon');
    const bin = await enroll(ask, 'bin');
    const file = path.join(files.stateDir, 'users', stateFileName('daemon'));
    const original = await fs.readFile(file);
    await fs.writeFile(file, original.subarray(0, original.length - 40));
    expect(await verifyWith(ask, 'daemon', daemon.pin(0))).toMatchObject({
      status: 'unavailable',
      reason: 'state-unreadable',
      message: 'Offline PINs are unavailable right now — use your password.',
    });
    expect(await ask({ op: 'status', user: 'daemon' })).toMatchObject({
      status: 'unavailable',
      reason: 'state-unreadable',
    });
    expect(await verifyWith(ask, 'bin', bin.pin(0))).toMatchObject({ status: 'accepted' });
    expect((await fs.readFile(file)).length).toBe(original.length - 40); // left exactly as it was
    const list = JSON.parse((await ask({ op: 'list' })).detail!);
    expect(list.users.map((u: { user: string }) => u.user)).toEqual(['bin']);
    expect(list.unreadable[0].file).toBe(file);
    expect(await ask({ op: 'reset', user: 'daemon', discardState: true })).toMatchObject({ status: 'ok' });
    expect(
      (await fs.readdir(path.dirname(file))).some((name) => name.startsWith(`${stateFileName('daemon')}.corrupt-`)),
    ).toBe(true);
    const again = await enroll(ask, 'daemon');
    expect(await verifyWith(ask, 'daemon', again.pin(0))).toMatchObject({ status: 'accepted' });
  });

  it("a state file copied over another user's fails authentication instead of unlocking", async () => {
    const { ask, files } = await start();
    const daemon = await enroll(ask, 'daemon');
    await enroll(ask, 'bin');
    const users = path.join(files.stateDir, 'users');
    await fs.copyFile(path.join(users, stateFileName('daemon')), path.join(users, stateFileName('bin')));
    expect(await verifyWith(ask, 'bin', daemon.pin(0))).toMatchObject({
      status: 'unavailable',
      reason: 'state-unreadable',
    });
  });

  it('a sealing key missing from the keystore is an error, never "no PINs"', async () => {
    const { ask, files, clock, agent } = await start();
    const phone = await enroll(ask, 'daemon');
    for (const entry of await fs.readdir(files.keystoreDir))
      if (entry.endsWith('.secret')) await fs.unlink(path.join(files.keystoreDir, entry));
    const restarted = await restart(agent, clock);
    expect(await verifyWith(restarted.ask, 'daemon', phone.pin(0))).toMatchObject({
      status: 'unavailable',
      reason: 'keystore-unavailable',
    });
    expect(restarted.logLines.join('')).toMatch(/keystore.unavailable .*pool-sealing-key/);
  });

  it('user state without its manifest is refused rather than re-keyed', async () => {
    const { ask, files, clock, agent } = await start();
    const phone = await enroll(ask, 'daemon');
    await fs.unlink(path.join(files.stateDir, 'agent.json'));
    const restarted = await restart(agent, clock);
    expect(await verifyWith(restarted.ask, 'daemon', phone.pin(0))).toMatchObject({
      status: 'unavailable',
      reason: 'keystore-unavailable',
    });
    expect(await fs.readdir(files.stateDir)).not.toContain('agent.json');
  });
});
