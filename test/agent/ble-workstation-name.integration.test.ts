import { hostname } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, spawnAgent, writeAgentConfig, type AgentFiles } from '../helpers/agent-harness.js';
import type { AgentProcess } from '../helpers/agent-harness.js';
import { ControllerProcess } from '../helpers/ble-stack.js';
import { ControlCenterProcess, PhoneCli, eventually, freePort } from '../helpers/online-stack.js';
import { startCli } from '../helpers/run-cli.js';
import { stopAfterAll } from '../helpers/stop-after-all.js';
import { testUsersForSuite } from '../helpers/suite-users.js';

const WORKSTATION = `Lab bench ${process.pid}`; // the enrolled name: not the host name, and with spaces
const CODE = /\b([0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4})\b/;
let dir: string;
let cc: ControlCenterProcess;
let controller: ControllerProcess;
let files: AgentFiles;
let agent: AgentProcess;
let phone: PhoneCli;

/** `latchkey COMMAND --user U --socket S` in the background until it prints a pairing code; the phone's `pairWith(code)` runs then. */
async function withCode(
  command: string[],
  user: string,
  pairWith: (code: string) => Promise<{ code: number | null; stdout: string; stderr: string }>,
) {
  const pairing = startCli([...command, '--user', user, '--wait', '60', '--socket', files.socket]);
  try {
    const code = await eventually('the pairing code', async () => CODE.exec(pairing.output())?.[1]);
    const phoneRun = await pairWith(code);
    expect(phoneRun.code, phoneRun.stderr).toBe(0);
    expect(await pairing.exited, pairing.output()).toBe(0);
    return phoneRun.stdout;
  } finally {
    pairing.stop();
  }
}

const [alice] = testUsersForSuite('a test user', 'blen');
const suite = stopAfterAll();
beforeAll(async () => {
  expect(hostname()).not.toBe(WORKSTATION);
  dir = await makeTempDir('latchkey-ble-name-');
  cc = suite.stop(new ControlCenterProcess(path.join(dir, 'cc.db'), await freePort()), (started) => started.stop());
  await cc.start();
  const created = await cc.admin(['install-tokens', 'create', '--note', 'ble-name']);
  const installToken = /lk_install_[A-Za-z0-9_-]{43}/.exec(created.stdout)![0];
  controller = suite.stop(await ControllerProcess.start(path.join(dir, 'pty'), ['phone', 'workstation']), (started) =>
    started.stop(),
  );
  files = await writeAgentConfig(
    dir,
    {},
    {
      controlCenter: { url: cc.url, installToken, name: WORKSTATION },
      ble: { enabled: true, transport: `uart:${controller.ports.workstation}`, budgetMs: 4_000 },
    },
  );
  agent = suite.stop(await spawnAgent(files), (started) => started.stop());
  await eventually('the agent to enroll', async () =>
    agent.output().includes('workstation.managed') ? true : undefined,
  );
  phone = await PhoneCli.create(dir, 'Alice phone');
}, 120_000);

describe('one name per workstation, online and over Bluetooth', () => {
  it('the Bluetooth pairing names the workstation by its enrolled name, as the online pairing does', async () => {
    const online = await withCode(['pair'], alice.name, (code) => phone.run(['pair', code, '--url', cc.url]));
    expect(online).toContain(WORKSTATION);
    expect((await phone.run(['status'])).stdout).toContain(`${WORKSTATION} (${alice.name})`);
    const overBle = await withCode(['ble', 'pair'], alice.name, (code) =>
      phone.run(['ble', 'pair', code, '--uart', controller.ports.phone!, '--wait', '30'], { timeoutMs: 60_000 }),
    );
    expect(overBle).toContain(`Paired over Bluetooth with ${alice.name} on ${WORKSTATION}`);
    expect(overBle).not.toContain(hostname());
    expect((await phone.run(['ble', 'list'])).stdout).toContain(`${alice.name} on ${WORKSTATION}`);
  }, 90_000);

  it('phone ble unpair takes the name the phone shows for the workstation', async () => {
    const wrongUser = await phone.run(['ble', 'unpair', WORKSTATION, '--user', 'someone-else']);
    expect(wrongUser.code).toBe(1);
    expect(wrongUser.stderr).toMatch(/no Bluetooth pairing with .* for someone-else/);
    const unpaired = await phone.run(['ble', 'unpair', WORKSTATION]);
    expect(unpaired.code, unpaired.stderr).toBe(0);
    expect(unpaired.stdout).toContain(`Forgot the Bluetooth pairing with ${alice.name} on ${WORKSTATION}`);
    expect((await phone.run(['ble', 'list'])).stdout).toContain('No workstation is paired over Bluetooth.');
    // The online pairing, under the same name, is untouched.
    expect((await phone.run(['status'])).stdout).toContain(`${WORKSTATION} (${alice.name})`);
  });
});
