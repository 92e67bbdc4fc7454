/**
 * Bluetooth approval through the real agent on Windows, under wine (docs/windows.md §6.5, §10):
 * the virtual controller (ble/virtual-controller) runs on the Linux side with one pty per host;
 * wine maps COM5 to the workstation's pty, and the Windows agent — node.exe as LatchkeyAgent
 * through the real service wrapper, `"ble": {"transport": "uart:COM5"}` — opens it through
 * @serialport's win32 binding. The real CLI under node.exe shows the Bluetooth pairing code the
 * phone CLI (Linux, its own pty) pairs with; cp-harness.exe plays LogonUI: a PIN unlock seals the
 * phone's copy (§6.6), then "Approve on my phone" with `latchkey phone ble serve --auto-approve`
 * yields the user's KERB_INTERACTIVE_UNLOCK_LOGON.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { utf8 } from '../../protocol/bytes.js';
import { utf16le } from '../../protocol/windows-logon-credential.js';
import { Phone, makeTempDir } from '../helpers/agent-harness.js';
import { BlePhoneProcess, ControllerProcess } from '../helpers/ble-stack.js';
import { PhoneCli } from '../helpers/online-stack.js';
import { expectNoSecrets } from '../helpers/phone-release.js';
import { RealAgent, filesUnder } from './helpers/real-agent.js';
import { stopAfterAll } from '../helpers/stop-after-all.js';

const POOL = 10;
const PASSWORD = 'Bl\u00e5tand \u2603 over the air 7';
const SAY = {
  declined: 'The unlock was declined on your phone.',
  notFound:
    'Your phone was not found over Bluetooth \u2014 is it near, with Latchkey open? Type an offline PIN or your password.',
};

let dir: string;
let controller: ControllerProcess;
let agent: RealAgent;
let phone: PhoneCli;
let pins: Phone;
let serving: BlePhoneProcess | null = null;

const suite = stopAfterAll();
beforeAll(async () => {
  dir = await makeTempDir('latchkey-winble-');
  controller = suite.stop(await ControllerProcess.start(join(dir, 'pty'), ['phone', 'workstation']), (started) =>
    started.stop(),
  );
  agent = await RealAgent.start(
    {
      policy: { offlineMode: true, pinCount: POOL, pinLength: 8 },
      kdf: { memoryKiB: 8, iterations: 1 },
      ble: { enabled: true, transport: 'uart:COM5', budgetMs: 8_000 },
    },
    { COM5: controller.ports.workstation! },
  );
  suite.stop(agent, (started) => started.destroy());
  // the phone gets its time over Bluetooth under wine's load
  agent.option('BleWaitMs', 15_000);
  phone = await PhoneCli.create(dir, 'bob');
}, 600_000);

describe('Bluetooth approval through the real agent under wine (docs/windows.md §6.5)', () => {
  it('the agent opens COM5 (the virtual controller through wine) and pairs the phone over Bluetooth', async () => {
    const enrolled = agent.latchkey(['enroll', '--user', agent.user, '--windows-password', '--json'], {
      stdin: `${PASSWORD}\n`,
    });
    pins = new Phone(utf8((JSON.parse(enrolled.stdout) as { uri: string }).uri));

    const log = join(agent.wine.dir, 'ble-pair.log');
    const { code, exited } = await agent.showPairingCode(['ble', 'pair', '--user', agent.user, '--wait', '90'], log);
    const paired = await phone.run(['ble', 'pair', code, '--uart', controller.ports.phone!, '--wait', '60'], {
      timeoutMs: 90_000,
    });
    expect(paired.code, paired.stderr + agent.wine.readText(log)).toBe(0);
    expect(await exited, agent.wine.readText(log)).toBe(0);
  }, 300_000);

  it("a PIN unlock seals the phone's copy; then its approval over Bluetooth yields the KERB_INTERACTIVE_UNLOCK_LOGON", async () => {
    const unlocked = (
      await agent.harnessAsync('logon', 'select', `user=${agent.user}`, `pin=${pins.pin(0)}`, 'serialize')
    ).at(-1)!;
    expect(unlocked.serialization).toMatchObject({ user: agent.user, password: PASSWORD });

    serving = suite.stop(await BlePhoneProcess.start(phone, controller.ports.phone!), (started) => started.stop());
    const session = serving.nextSession(60_000);
    const steps = await agent.harnessAsync('logon', 'select', `user=${agent.user}`, 'phone', 'wait=60000', 'serialize');
    expect(steps[3], JSON.stringify(steps)).toMatchObject({ changed: 1, autoLogon: 1 });
    expect(steps[4]).toMatchObject({
      response: 2,
      text: '',
      serialization: { messageType: 2, domain: agent.computer, user: agent.user, password: PASSWORD },
    });
    expect(await session).toMatch(/^Unlocked/);
  }, 180_000);

  it('no phone near within BleWaitMs: the sentence and no serialization, then a PIN still signs in', async () => {
    await serving!.stop();
    serving = null;
    await controller.quiet('phone');
    agent.option('BleWaitMs', 5_000);
    try {
      const steps = await agent.harnessAsync(
        'logon',
        'select',
        `user=${agent.user}`,
        'phone',
        'wait=60000',
        `pin=${pins.pin(1)}`,
        'serialize',
      );
      expect(steps[3], JSON.stringify(steps)).toMatchObject({ changed: 1, autoLogon: 0, status: SAY.notFound });
      expect(steps[5]!.serialization).toMatchObject({ user: agent.user, password: PASSWORD });
    } finally {
      agent.option('BleWaitMs', 15_000);
    }
  }, 180_000);

  it("the phone declining: no serialization, the agent's sentence, the PIN field", async () => {
    // (after the silent phone: a declined unlock keeps the tile from asking over Bluetooth for a minute, docs/ipc.md `ble`)
    // without --auto-approve and with no terminal to ask on, the phone declines
    serving = suite.stop(await BlePhoneProcess.start(phone, controller.ports.phone!, []), (started) => started.stop());
    const session = serving.nextSession(60_000);
    const steps = await agent.harnessAsync('logon', 'select', `user=${agent.user}`, 'phone', 'wait=60000', 'status');
    expect(steps[3], JSON.stringify(steps)).toMatchObject({ changed: 1, autoLogon: 0, status: SAY.declined });
    expect(steps[4]!.fields!.pin!.interactive).toBe('focused');
    expect(await session).toMatch(/^An unlock did not finish|refused the unlock/);
  }, 180_000);

  it('neither the password nor a PIN in the agent log or its state', () => {
    const haystacks: [string, Buffer][] = [['the agent log', readFileSync(agent.serviceLog)]];
    for (const file of filesUnder(agent.dataDir)) haystacks.push([file, readFileSync(file)]);
    expect(haystacks.length).toBeGreaterThan(3);
    const secrets = [PASSWORD, ...Array.from({ length: POOL }, (_, counter) => pins.pin(counter))];
    expectNoSecrets(haystacks, [...secrets.map(utf8), utf16le(PASSWORD)]);
  });
});
