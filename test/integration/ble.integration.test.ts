import { promises as fs } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, spawnAgent, writeAgentConfig, type AgentFiles } from '../helpers/agent-harness.js';
import type { AgentProcess } from '../helpers/agent-harness.js';
import { BlePhoneProcess, ControllerProcess } from '../helpers/ble-stack.js';
import { PhoneCli, eventually } from '../helpers/online-stack.js';
import { runCli, startCli, statusJson } from '../helpers/run-cli.js';
import { VERDICT, moduleLine, pamService, pamtester } from '../native/helpers/pam-env.js';
import { stopAfterAll } from '../helpers/stop-after-all.js';
import { testUsersForSuite } from '../helpers/suite-users.js';

const BLE_WAIT_MS = 2_500;
let dir: string;
let controller: ControllerProcess;
let files: AgentFiles;
let agent: AgentProcess;
let phoneA: PhoneCli;
let phoneB: PhoneCli;
let service: string;
let pins: string[] = [];
const serving: BlePhoneProcess[] = [];

const socket = () => ['--socket', files.socket];
const CODE = /\b([0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4})\b/;

/** `latchkey ble pair --user U` in the background: resolves the code it shows, then its exit. */
async function showCode(
  user: string,
  waitSeconds = 60,
): Promise<{ code: string; output: () => string; exited: Promise<number | null>; stop: () => void }> {
  const pairing = startCli(['ble', 'pair', '--user', user, '--wait', String(waitSeconds), ...socket()]);
  const code = await eventually('the Bluetooth pairing code', async () => CODE.exec(pairing.output())?.[1]);
  return { code, output: pairing.output, exited: pairing.exited, stop: pairing.stop };
}

function phonePair(phone: PhoneCli, code: string, pty: string, waitSeconds = 30) {
  return phone.run(['ble', 'pair', code, '--uart', pty, '--wait', String(waitSeconds)], {
    timeoutMs: (waitSeconds + 20) * 1000,
  });
}

const status = (user: string) =>
  statusJson<{ ble: boolean; usable: boolean; blePhones: { deviceId: string; name: string }[] }>(files.socket, user);

async function audit(): Promise<
  {
    event: string;
    user: string;
    result: string;
    reason: string | null;
    authenticatorId: string | null;
    context: string | null;
  }[]
> {
  return (await fs.readFile(files.auditLog, 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
}

async function serve(phone: PhoneCli, port: string): Promise<BlePhoneProcess> {
  const process_ = suite.stop(await BlePhoneProcess.start(phone, controller.ports[port]!), (started) => started.stop());
  serving.push(process_);
  return process_;
}

/** With LATCHKEY_E2E_LOGS set (CI), the agent's log is kept there once it stopped. */
async function keepLog(folder = process.env.LATCHKEY_E2E_LOGS): Promise<void> {
  if (folder) await fs.writeFile(path.join(folder, 'ble-agent.log'), agent?.output() ?? '');
}

const [alice, bob] = testUsersForSuite('test users, /etc/pam.d, pamtester', 'blea', 'bleb');
const suite = stopAfterAll();
beforeAll(async () => {
  suite.defer(keepLog);
  dir = await makeTempDir('latchkey-ble-e2e-');
  controller = suite.stop(
    await ControllerProcess.start(path.join(dir, 'pty'), ['phone', 'phone2', 'workstation']),
    (started) => started.stop(),
  );
  files = await writeAgentConfig(
    dir,
    { offlineMode: true, pinCount: 10 },
    { ble: { enabled: true, transport: `uart:${controller.ports.workstation}`, budgetMs: 4_000 } },
  );
  agent = suite.stop(await spawnAgent(files), (started) => started.stop());
  phoneA = await PhoneCli.create(dir, 'Alice phone');
  phoneB = await PhoneCli.create(dir, 'Bob phone');
  const enrolled = await runCli(['enroll', '--user', alice.name, '--json', ...socket()], { timeoutMs: 60_000 });
  expect(enrolled.code, enrolled.stderr).toBe(0);
  const uri = (JSON.parse(enrolled.stdout) as { uri: string }).uri;
  pins = (await runCli(['pins', '--uri', uri, '--from', '0', '--count', '3'])).stdout.trim().split('\n');
  service = pamService('ble-e2e', [
    moduleLine('sufficient', files, `push=auto ble_wait=${BLE_WAIT_MS} online_wait=0`),
    'auth required pam_unix.so',
  ]);
}, 120_000);

describe('Bluetooth unlock, end to end (issue 5)', () => {
  it('pairs over BLE: the workstation shows a code, the phone process uses it, and both keep the keys', async () => {
    const shown = await showCode(alice.name);
    const paired = await phonePair(phoneA, shown.code, controller.ports.phone!);
    expect(paired.code, paired.stderr).toBe(0);
    expect(paired.stdout).toContain(`Paired over Bluetooth with ${alice.name} on ${hostname()}`);
    expect(await shown.exited, shown.output()).toBe(0);
    expect(shown.output()).toMatch(/Paired Alice phone over Bluetooth \(ble-[0-9A-Z]{5}\)/);
    expect(await status(alice.name)).toMatchObject({ ble: true, blePhones: [{ name: 'Alice phone' }] });
    expect((await phoneA.run(['ble', 'list'])).stdout).toContain(`${alice.name} on ${hostname()}`);
    // The code never reaches a log, and a used code is never answered again.
    expect(agent.output()).not.toContain(shown.code.slice(6));
    const reused = await phonePair(phoneB, shown.code, controller.ports.phone2!, 2);
    expect(reused.code).toBe(5);
    expect(reused.stderr).toMatch(/No workstation showing this code came near/);
  }, 60_000);

  it('refuses a wrong code: the phone is told, nothing is stored on either side', async () => {
    const shown = await showCode(bob.name);
    const last = shown.code.at(-1) === '0' ? '1' : '0';
    const wrong = await phonePair(phoneB, `${shown.code.slice(0, -1)}${last}`, controller.ports.phone2!, 20);
    expect(wrong.code).toBe(5);
    expect(wrong.stderr).toMatch(/The workstation refused this code/);
    expect((await phoneB.run(['ble', 'list'])).stdout).toContain('No workstation is paired over Bluetooth.');
    // Typed again correctly, the same code still pairs (Bob's phone, for Bob).
    const right = await phonePair(phoneB, shown.code, controller.ports.phone2!);
    expect(right.code, right.stderr).toBe(0);
    expect(await shown.exited).toBe(0);
    expect((await audit()).some((e) => e.event === 'pairing' && e.user === bob.name && e.result === 'rejected')).toBe(
      true,
    );
  }, 60_000);

  it('unlocks at the PAM prompt when the paired phone approves over BLE, with an audit entry', async () => {
    await serve(phoneA, 'phone');
    const run = pamtester(service, alice.name, '');
    expect(run.output).toContain('Approve on your phone');
    expect(run.output).toContain('Approved on your phone over Bluetooth — unlocked.');
    expect(run.output).toContain(VERDICT.success);
    expect(run.output).not.toContain('Offline PIN:');
    expect((await audit()).filter((e) => e.event === 'ble-auth').at(-1)).toMatchObject({
      user: alice.name,
      result: 'accepted',
      authenticatorId: expect.stringMatching(/^ble-/),
      context: `pam:${service}`,
    });
  }, 30_000);

  it("unlocks again after the phone's address rotates", async () => {
    const before = await controller.rotate('phone');
    expect(before).toMatch(/^[4-7][0-9a-f]:/i); // a random private address, as a phone OS uses
    const run = pamtester(service, alice.name, '');
    expect(run.output).toContain(VERDICT.success);
    expect(run.output).not.toContain('Offline PIN:');
  }, 30_000);

  it('push=ask (the default): the PIN prompt first, and Enter asks the paired phone over Bluetooth', async () => {
    const asking = pamService('ble-ask', [
      moduleLine('sufficient', files, `ble_wait=${BLE_WAIT_MS} online_wait=0`),
      'auth required pam_unix.so',
    ]);
    const run = pamtester(asking, alice.name, '\n');
    expect(run.output).toContain('Offline PIN (or Enter to approve on your phone): ');
    expect(run.output).toContain('Approved on your phone over Bluetooth — unlocked.');
    expect(run.output).toContain(VERDICT.success);
  }, 30_000);

  it("another user's paired phone nearby never unlocks alice: no answer in the budget, then the PIN prompt", async () => {
    for (const phone of serving.splice(0)) await phone.stop();
    await controller.quiet('phone'); // Alice's phone is switched off
    const bobsPhone = await serve(phoneB, 'phone2'); // paired over BLE, but for bob
    const run = pamtester(service, alice.name, `${pins[0]}\n`);
    expect(run.output).toContain('Approve on your phone');
    expect(run.output).toContain('Your phone was not found over Bluetooth');
    expect(run.output).toContain('Offline PIN:');
    expect(run.output).toContain('Unlocked — 9 offline PINs left.');
    expect(run.output).toContain(VERDICT.success);
    expect(bobsPhone.output).not.toMatch(/Unlocked/);
    expect(run.ms).toBeLessThan(BLE_WAIT_MS + 4_000); // bounded by ble_wait, not the agent's budget
  }, 30_000);

  it('with no phone answering, Enter at the PIN prompt goes on to the password', async () => {
    for (const phone of serving.splice(0)) await phone.stop();
    await controller.quiet('phone2');
    const run = pamtester(service, alice.name, `\n${alice.password}\n`);
    expect(run.output).toContain('Your phone was not found over Bluetooth');
    expect(run.output).toContain('Offline PIN:');
    expect(run.output).toMatch(/Password:/);
    expect(run.output).toContain(VERDICT.success);
    expect((await audit()).filter((e) => e.event === 'ble-auth').at(-1)).toMatchObject({
      result: 'unavailable',
      reason: 'timeout',
    });
  }, 30_000);

  it('unpairing on the phone stops it advertising that pairing; unpairing on the workstation removes the flag', async () => {
    const list = (await phoneA.run(['ble', 'list'])).stdout;
    const id = /ble-[0-9A-Z]{5}/.exec(list)![0];
    expect((await phoneA.run(['ble', 'unpair', id])).code).toBe(0);
    expect((await phoneA.run(['ble', 'serve', '--uart', controller.ports.phone!, '--timeout', '1'])).stderr).toMatch(
      /paired with no workstation over Bluetooth/,
    );
    const removed = await runCli(['ble', 'unpair', '--user', alice.name, '--device', id, ...socket()]);
    expect(removed.code, removed.stderr).toBe(0);
    expect(await status(alice.name)).toMatchObject({ ble: false, blePhones: [] });
    const run = pamtester(service, alice.name, `${pins[1]}\n`);
    expect(run.output).not.toContain('Approve on your phone');
    expect(run.output).toContain(VERDICT.success);
  }, 30_000);
});
