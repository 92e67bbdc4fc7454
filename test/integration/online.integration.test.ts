/**
 * Issue 4 end to end, every part a real process: the Control Center on SQLite, the agent, two
 * phones through the `latchkey phone` CLI, and PAM through pamtester with pam_latchkey and
 * pam_unix. enroll → pair → online approve → offline PIN at the PAM prompt → low warning →
 * exhaustion error on the phone → online approve → replenished; the CC killed in the middle of
 * a replenishment; a tampered policy; another user's phone; a reused pairing code; offline
 * unlocks reaching the CC's audit once; the recovery PIN.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, spawnAgent, writeAgentConfig, type AgentFiles } from '../helpers/agent-harness.js';
import type { AgentProcess } from '../helpers/agent-harness.js';
import { ControlCenterProcess, PhoneCli, eventually, freePort, pairThroughAgent } from '../helpers/online-stack.js';
import { runCli, statusJson } from '../helpers/run-cli.js';
import { VERDICT, moduleLine, pamService, pamtester } from '../native/helpers/pam-env.js';
import type { TestUser } from '../native/helpers/pam-env.js';
import { stopAfterAll } from '../helpers/stop-after-all.js';
import { testUsersForSuite } from '../helpers/suite-users.js';

const WORKSTATION = 'ws-e2e';
let dir: string;
let cc: ControlCenterProcess;
let files: AgentFiles;
let agent: AgentProcess;
let phoneA: PhoneCli;
let phoneB: PhoneCli;
let onlineService: string;
let offlineService: string;

const socket = () => ['--socket', files.socket];

const status = (user: string) =>
  statusJson<{
    online: boolean;
    usable: boolean;
    remaining: number;
    pools: { authenticatorId: string; remaining: number; pinCount: number; pending: boolean }[];
    failures: number;
  }>(files.socket, user);

/** The next offline PIN the phone shows (R5: a long press), and the screen text. */
async function nextPin(
  phone: PhoneCli,
  offline = true,
): Promise<{ pin: string | null; screen: string; code: number | null }> {
  const run = await phone.run(['long-press', WORKSTATION], { offline });
  const pin = /\b([0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4})\b/.exec(run.stdout)?.[1] ?? null;
  return { pin, screen: `${run.stdout}${run.stderr}`, code: run.code };
}

async function verifyCli(user: string, pin: string) {
  return runCli(['verify', '--user', user, ...socket()], { input: `${pin}\n` });
}

function pair(user: TestUser, phone: PhoneCli): Promise<{ pairOut: string; phoneOut: string; code: string }> {
  return pairThroughAgent(files.socket, user.name, phone, cc.url);
}

/** With LATCHKEY_E2E_LOGS set (CI), the processes' logs are kept there once they stopped. */
async function keepLogs(folder = process.env.LATCHKEY_E2E_LOGS): Promise<void> {
  if (!folder) return;
  await fs.writeFile(path.join(folder, 'agent.log'), agent?.output() ?? '');
  await fs.writeFile(path.join(folder, 'cc.log'), cc?.stderr ?? '');
  await fs.writeFile(path.join(folder, 'phone.log'), `${phoneA?.serveOutput}\n---\n${phoneB?.serveOutput}`);
}

const [alice, bob] = testUsersForSuite('test users, /etc/pam.d, pamtester', 'e2ea', 'e2eb');
const suite = stopAfterAll();
beforeAll(async () => {
  suite.defer(keepLogs);
  dir = await makeTempDir('latchkey-e2e-');
  cc = suite.stop(new ControlCenterProcess(path.join(dir, 'cc.db'), await freePort()), (started) => started.stop());
  await cc.start();
  expect(cc.adminToken).toMatch(/^lk_admin_/);
  expect((await cc.admin(['settings', 'set', 'offlineMode=true', 'pinCount=10', 'lowPinWarnPercent=20'])).code).toBe(0);
  const created = await cc.admin(['install-tokens', 'create', '--note', 'e2e']);
  const installToken = /lk_install_[A-Za-z0-9_-]{43}/.exec(created.stdout)![0];
  files = await writeAgentConfig(
    path.join(dir),
    {},
    { controlCenter: { url: cc.url, installToken, name: WORKSTATION } },
  );
  agent = suite.stop(await spawnAgent(files), (started) => started.stop());
  await eventually('the agent to enroll', async () =>
    agent.output().includes('workstation.managed') ? true : undefined,
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n${agent.output()}`);
  });
  phoneA = suite.stop(await PhoneCli.create(dir, 'Alice phone'), (phone) => phone.stopServing());
  phoneB = suite.stop(await PhoneCli.create(dir, 'Bob phone'), (phone) => phone.stopServing());
  onlineService = pamService('e2e-online', [
    moduleLine('sufficient', files, 'push=auto online_wait=15000'),
    'auth required pam_unix.so',
  ]);
  offlineService = pamService('e2e-offline', [
    moduleLine('sufficient', files, 'push=auto online_wait=1500'),
    'auth required pam_unix.so',
  ]);
}, 120_000);

describe('online sign-in and offline PINs, end to end', () => {
  it('enrolls with the install token and enforces the signed policy', async () => {
    const detail = await status(alice.name);
    expect(detail).toMatchObject({ online: false, usable: false }); // no phone paired yet
    const workstations = await cc.admin(['--json', 'workstations', 'list']);
    expect(workstations.stdout).toContain(WORKSTATION);
  });

  it('pairs a phone with a code only the workstation screen shows (and the code is single use)', async () => {
    const { pairOut, phoneOut, code } = await pair(alice, phoneA);
    expect(pairOut).toMatch(/Paired Alice phone\./);
    expect(phoneOut).toContain(WORKSTATION);
    // R2/R6: no offline PIN before a successful online sign-in.
    const before = await nextPin(phoneA);
    expect(before.pin).toBeNull();
    expect((await status(alice.name)).online).toBe(true);
    // The same code on another phone is refused.
    const reused = await phoneB.run(['pair', code, '--url', cc.url]);
    expect(reused.code).not.toBe(0);
  });

  it('approves a sign-in at the PAM prompt on the phone; the agent then replenishes (R9)', async () => {
    phoneA.startServing();
    const run = pamtester(onlineService, alice.name, '');
    expect(run.output).toContain('Approve the sign-in on your phone');
    expect(run.output).toContain(VERDICT.success);
    expect(run.output).not.toContain('Offline PIN:');
    const replenished = await eventually('the new pool to be confirmed', async () => {
      const detail = await status(alice.name);
      return detail.pools.length === 1 && detail.remaining === 10 ? detail : undefined;
    });
    expect(replenished.usable).toBe(true);
  }, 60_000);

  it('unlocks with an offline PIN at the PAM prompt when the phone does not answer (R7)', async () => {
    await phoneA.stopServing();
    const { pin } = await nextPin(phoneA);
    expect(pin).not.toBeNull();
    const run = pamtester(offlineService, alice.name, `${pin}\n`);
    expect(run.output).toContain('Offline PIN:');
    expect(run.output).toContain('Unlocked — 9 offline PINs left.');
    expect(run.output).toContain(VERDICT.success);
  }, 30_000);

  it('goes straight to the PIN prompt, without waiting, when the Control Center is unreachable', async () => {
    await cc.stop();
    await eventually('the agent to notice', async () => ((await status(alice.name)).online ? undefined : true), 40_000);
    const { pin } = await nextPin(phoneA);
    const run = pamtester(onlineService, alice.name, `${pin}\n`);
    expect(run.output).not.toContain('Approve the sign-in');
    expect(run.output).toContain('Unlocked — 8 offline PINs left.');
    expect(run.ms).toBeLessThan(5_000); // a behaviour, not a benchmark: no 15 s online wait
    await cc.start();
  }, 90_000);

  it('warns on the phone when PINs run low (R8) and shows an error when they are used up (R10)', async () => {
    const screens: string[] = [];
    for (let i = 0; i < 8; i++) {
      const shown = await nextPin(phoneA);
      screens.push(shown.screen);
      expect((await verifyCli(alice.name, shown.pin!)).code).toBe(0);
    }
    expect(screens[0], screens[0]).toMatch(/\b7 offline PINs left\./);
    expect(
      screens.find((screen) => /2 offline PINs left — sign in once online to get more\./.test(screen)),
    ).toBeDefined();
    expect(screens.at(-1)).toMatch(/That was your last offline PIN/);
    const exhausted = await nextPin(phoneA);
    expect(exhausted.pin).toBeNull();
    expect(exhausted.code).not.toBe(0);
    expect(exhausted.screen).toMatch(/no offline PINs left|used up|sign in online/i);
    const lowStatus = await phoneA.run(['status'], { offline: true });
    expect(lowStatus.stdout).toMatch(/sign in online|no offline PINs left|0 offline/i);
  }, 60_000);

  it('an online approval replenishes, and the new PINs work', async () => {
    phoneA.startServing();
    expect((await runCli(['sign-in', '--user', alice.name, '--wait', '15000', ...socket()])).code).toBe(0);
    await eventually('the new pool', async () => ((await status(alice.name)).remaining === 10 ? true : undefined));
    await phoneA.stopServing();
    const { pin } = await nextPin(phoneA);
    expect((await verifyCli(alice.name, pin!)).stdout).toBe('Unlocked — 9 offline PINs left.\n');
  }, 60_000);

  it('survives the Control Center dying in the middle of a replenishment: no lockout, never two live pools', async () => {
    // The phone approves in one round and goes away before the new pool exists: the delivery
    // stays pending at the agent, uploaded or not, when the Control Center dies.
    const signIn = runCli(['sign-in', '--user', alice.name, '--wait', '15000', ...socket()]);
    await eventually('the phone to approve', async () => {
      const round = await phoneA.run(['serve', '--once', '--auto-approve', '--timeout', '3']);
      return /approved/i.test(round.stdout) ? true : undefined;
    });
    expect((await signIn).code).toBe(0);
    await cc.stop('SIGKILL');
    // The old pool still unlocks while the new one is in flight (no lockout).
    const old = await nextPin(phoneA);
    expect((await verifyCli(alice.name, old.pin!)).code).toBe(0);
    let detail = await status(alice.name);
    expect(detail.pools.filter((pool) => !pool.pending)).toHaveLength(1); // one live pool; the new one is listed as pending
    await cc.start();
    phoneA.startServing();
    detail = await eventually(
      'the pending pool to be confirmed after the restart',
      async () => {
        const current = await status(alice.name);
        return current.remaining === 10 && current.pools.every((pool) => !pool.pending) ? current : undefined;
      },
      60_000,
    );
    expect(detail.pools).toHaveLength(1);
    await phoneA.stopServing();
    const fresh = await nextPin(phoneA);
    expect((await verifyCli(alice.name, fresh.pin!)).code).toBe(0);
    expect((await verifyCli(alice.name, old.pin!)).code).toBe(1); // from the retired pool
  }, 120_000);

  it('a tap on the phone signs in through the agent (R3), or offers the PIN when the workstation does not answer (R3) or there is no internet (R4)', async () => {
    const tapped = await phoneA.run(['tap', WORKSTATION]);
    expect(tapped.stdout).toMatch(/Approved — ws-e2e is signing/);
    // The approval the phone started is good at the lock screen for a minute: no second push.
    const run = pamtester(onlineService, alice.name, '');
    expect(run.output).toContain(VERDICT.success);
    expect(run.ms).toBeLessThan(5_000);

    await agent.stop();
    const silent = await phoneA.run(['tap', WORKSTATION], { timeoutMs: 30_000 });
    expect(silent.stdout).toMatch(/didn't answer within 5 seconds/);
    expect(silent.stdout).toMatch(/[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}/);
    agent = suite.stop(await spawnAgent(files), (started) => started.stop());
    await eventually(
      'the agent to be online again',
      async () => ((await status(alice.name)).online ? true : undefined),
      40_000,
    );

    const noInternet = await phoneA.run(['tap', WORKSTATION], { offline: true });
    expect(noInternet.stdout).toMatch(/no internet/i);
    expect(noInternet.stdout).toMatch(/[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}/);
  }, 120_000);

  it("another user's phone cannot approve", async () => {
    await pair(bob, phoneB);
    phoneB.startServing();
    const run = await runCli(['sign-in', '--user', alice.name, '--wait', '3000', ...socket()]);
    expect(run.code).toBe(3); // nobody answered for alice
    await phoneB.stopServing();
  }, 60_000);

  it('offline unlocks reach the Control Center audit once each', async () => {
    const uploaded = await eventually(
      'the events to reach the CC',
      async () => {
        const run = await cc.admin(['--json', 'events', '--limit', '500']);
        const events = JSON.parse(run.stdout) as
          | { events?: { id: string; type: string }[] }
          | { id: string; type: string }[];
        const list = Array.isArray(events) ? events : (events.events ?? []);
        return list.filter((event) => event.type === 'verify').length >= 12 ? list : undefined;
      },
      40_000,
    );
    const ids = uploaded.map((event) => event.id);
    expect(new Set(ids).size).toBe(ids.length);
    await agent.stop();
    agent = suite.stop(await spawnAgent(files), (started) => started.stop());
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const again = JSON.parse((await cc.admin(['--json', 'events', '--limit', '500'])).stdout);
    const listAgain = Array.isArray(again) ? again : again.events;
    expect(listAgain.length).toBe(uploaded.length);
  }, 90_000);

  it('refuses a tampered cached policy and fails closed until the Control Center signs a fresh one', async () => {
    await agent.stop();
    await cc.stop();
    const policyFile = path.join(files.stateDir, 'policy.json');
    const cached = JSON.parse(await fs.readFile(policyFile, 'utf8'));
    cached.policy.settings.pinCount = 99;
    await fs.writeFile(policyFile, JSON.stringify(cached));
    agent = suite.stop(await spawnAgent(files), (started) => started.stop());
    await eventually('the refusal in the log', async () =>
      agent.output().includes('policy.cache-refused') ? true : undefined,
    );
    const { pin } = await nextPin(phoneA);
    const refused = await verifyCli(alice.name, pin!);
    expect(refused.stdout).toBe('Offline PINs are not enabled on this computer.\n'); // no policy in force: Offline Mode off
    await cc.start();
    await eventually(
      'a fresh signed policy',
      async () => (agent.output().includes('policy.applied') ? true : undefined),
      40_000,
    );
    expect((await verifyCli(alice.name, pin!)).code).toBe(0);
  }, 120_000);

  it('reveals a one-time recovery PIN to an admin that works once, offline too', async () => {
    expect((await cc.admin(['settings', 'set', 'recoveryPin=true'])).code).toBe(0);
    const { workstationId } = JSON.parse(await fs.readFile(path.join(files.stateDir, 'workstation.json'), 'utf8')) as {
      workstationId: string;
    };
    const revealed = await eventually(
      'a recovery PIN at the CC',
      async () => {
        const run = await cc.admin(['recovery-pin', 'reveal', '--workstation', workstationId, '--user', alice.name]);
        return run.code === 0
          ? /\b([0-9A-HJKMNP-TV-Z]{4}-?[0-9A-HJKMNP-TV-Z]{4}-?[0-9A-HJKMNP-TV-Z]{4})\b/.exec(run.stdout)?.[1]
          : undefined;
      },
      40_000,
    );
    await cc.stop();
    const run = pamtester(offlineService, alice.name, `${revealed}\n`);
    expect(run.output).toContain(VERDICT.success);
    const again = pamtester(offlineService, alice.name, `${revealed}\n${alice.password}\n`);
    expect(again.output).toContain("didn't work");
    expect(again.output).toContain(VERDICT.success); // the password still works
    await cc.start();
  }, 120_000);
});
