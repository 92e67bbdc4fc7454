/**
 * Online approval through the real agent on Windows, under wine (docs/windows.md §6.5, §10): the
 * Control Center (SQLite on disk) and the phone CLI run on the Linux side and talk to the Windows
 * agent — node.exe as LatchkeyAgent through the real service wrapper — across loopback. The real
 * CLI under node.exe enrolls the user with a known password and the workstation with the Control
 * Center, and shows the pairing code the phone redeems; cp-harness.exe plays LogonUI: a PIN unlock
 * seals the phone's copy (§6.6), then "Approve on my phone" with the phone approving yields the
 * user's KERB_INTERACTIVE_UNLOCK_LOGON, and with the phone denying or silent, none.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FileVaultStore } from '../../phone/cli/vault-file.js';
import { loadCredentialKey } from '../../phone/core/credential-key.js';
import { utf8 } from '../../protocol/bytes.js';
import { copyKeyFor } from '../../protocol/credential-wrap.js';
import { utf16le } from '../../protocol/windows-logon-credential.js';
import { queryDb } from '../control-center/helpers.js';
import { Phone, makeTempDir } from '../helpers/agent-harness.js';
import { ControlCenterProcess, PhoneCli, eventually, freePort } from '../helpers/online-stack.js';
import { expectNoSecrets } from '../helpers/phone-release.js';
import { RealAgent, filesUnder, type HarnessStep } from './helpers/real-agent.js';
import { stopAfterAll } from '../helpers/stop-after-all.js';

const POOL = 10;
const PASSWORD = 'Winter is coming \u2603 2026';
const SAY = {
  approve: 'Approve on your phone\u2026',
  noCredential: 'Latchkey could not sign you in to Windows \u2014 use your password.',
  denied: 'The sign-in was denied on your phone.',
  noAnswer: 'No answer from your phone \u2014 type an offline PIN or your password.',
};

/** A process of its own: the test's runs of wine block this one's event loop. */
let cc: ControlCenterProcess;
let dir: string;
let agent: RealAgent;
let phone: PhoneCli;
let pins: Phone;
/** Every copy key k the phone released: none may appear anywhere. */
const copyKeys: Uint8Array[] = [];

const suite = stopAfterAll();
beforeAll(async () => {
  dir = await makeTempDir('latchkey-winonline-');
  cc = suite.stop(new ControlCenterProcess(join(dir, 'cc.db'), await freePort()), (started) => started.stop());
  await cc.start();
  expect((await cc.admin(['settings', 'set', 'offlineMode=true', `pinCount=${POOL}`])).code).toBe(0);
  agent = suite.stop(
    await RealAgent.start({
      policy: { offlineMode: true, pinCount: POOL, pinLength: 8 },
      kdf: { memoryKiB: 8, iterations: 1 },
    }),
    (started) => started.destroy(),
  );
  phone = suite.stop(await PhoneCli.create(dir, 'alice'), (started) => started.stopServing());
}, 600_000);

/** The tile at logon for the prefix's user, through `steps`. */
function tile(...steps: string[]): HarnessStep[] {
  return agent.harness('logon', 'select', `user=${agent.user}`, ...steps);
}

/** "Approve on my phone", then LogonUI told the phone answered, then GetSerialization. */
function approveOnPhone(): HarnessStep[] {
  return tile('phone', 'wait=60000', 'serialize', 'status');
}

/** The newest auth request the Control Center relayed: its credential field, what the phone was asked. */
function newestAsk(): { copies: { deviceId: string; eph: string }[] } | null {
  const row = queryDb<{ credential: string | null }>(
    cc.databaseFile,
    'SELECT credential FROM auth_requests ORDER BY created_at DESC LIMIT 1',
  )[0];
  return row?.credential ? (JSON.parse(row.credential) as { copies: { deviceId: string; eph: string }[] }) : null;
}

/** The copy key k the phone computes from its CK and the copy's eph the request named. */
async function copyKeyAsked(): Promise<Uint8Array> {
  const eph = Buffer.from(newestAsk()!.copies[0]!.eph, 'base64url');
  const passphrase = readFileSync(phone.passphraseFile, 'utf8').split('\n')[0]!;
  const vault = await (await FileVaultStore.open(phone.home, utf8(passphrase))).read();
  const k = await copyKeyFor((await loadCredentialKey(vault.pairings[0]!.credentialKey))!, eph);
  if (!k) throw new Error('the phone cannot open its copy');
  return k;
}

describe('online approval through the real agent under wine (docs/windows.md §6.5)', () => {
  it('enrolls with the password, joins the Control Center on Linux, and pairs the phone with the code the CLI shows', async () => {
    const enrolled = agent.latchkey(['enroll', '--user', agent.user, '--windows-password', '--json'], {
      stdin: `${PASSWORD}\n`,
    });
    pins = new Phone(utf8((JSON.parse(enrolled.stdout) as { uri: string }).uri));

    const joined = agent.latchkey(['workstation', 'enroll', '--url', cc.url, '--name', 'ws-wine'], {
      stdin: `${/lk_install_[A-Za-z0-9_-]{43}/.exec((await cc.admin(['install-tokens', 'create'])).stdout)![0]}\n`,
    });
    expect(joined.stdout + joined.stderr).not.toContain('latchkey:');

    const log = join(agent.wine.dir, 'pair.log');
    const { code, exited } = await agent.showPairingCode(['pair', '--user', agent.user, '--wait', '90'], log);
    const redeemed = await phone.run(['pair', code, '--url', cc.url]);
    expect(redeemed.code, redeemed.stderr).toBe(0);
    expect(await exited, agent.wine.readText(log)).toBe(0);
    expect(queryDb(cc.databaseFile, 'SELECT * FROM devices')).toHaveLength(1);
  }, 300_000);

  it('paired after the capture, the phone holds no copy yet: its approval signs in to nothing, and asks nothing of it', () => {
    phone.startServing();
    // (no GetSerialization after: with no PIN typed, Enter asks the phone again, docs/windows.md §4.4)
    const steps = tile('phone', 'wait=60000', 'status');
    expect(steps[2]).toMatchObject({ said: SAY.approve });
    expect(steps[3], JSON.stringify(steps)).toMatchObject({ changed: 1, autoLogon: 0, status: SAY.noCredential });
    expect(newestAsk()).toBeNull();
  }, 180_000);

  it("a PIN unlock seals the phone's copy; then its approval yields the KERB_INTERACTIVE_UNLOCK_LOGON", async () => {
    const unlocked = tile(`pin=${pins.pin(0)}`, 'serialize').at(-1)!;
    expect(unlocked.serialization).toMatchObject({ user: agent.user, password: PASSWORD });

    const steps = approveOnPhone();
    expect(steps[3]).toMatchObject({ changed: 1, autoLogon: 1 });
    expect(steps[4]).toMatchObject({
      response: 2,
      text: '',
      serialization: { messageType: 2, domain: agent.computer, user: agent.user, password: PASSWORD },
    });
    // the Control Center relayed the signed ask naming the phone's copy
    expect(newestAsk()!.copies).toHaveLength(1);
    copyKeys.push(await copyKeyAsked());
  }, 180_000);

  it("the phone denying: no serialization, the agent's sentence, the PIN field", async () => {
    await phone.stopServing();
    const log = join(agent.wine.dir, 'deny.log');
    const harness = agent.startHarness(
      'logon',
      ['select', `user=${agent.user}`, 'phone', 'wait=60000', 'serialize', 'status'],
      log,
    );
    const exited = new Promise<number | null>((resolve) => harness.once('exit', resolve));
    // the one waiting request, denied on the phone as its person would
    await eventually(
      'a request to deny',
      async () => ((await phone.run(['deny'])).code === 0 ? true : undefined),
      60_000,
    );
    expect(await exited).toBe(0);
    const steps = (JSON.parse(agent.wine.readText(log)) as { steps: HarnessStep[] }).steps;
    expect(steps[3]).toMatchObject({ changed: 1, autoLogon: 0, status: SAY.denied });
    expect(steps[4]).toMatchObject({ response: 0, serialization: null });
    expect(steps[5]!.fields!.pin!.interactive).toBe('focused');
  }, 180_000);

  it('the phone not answering within OnlineWaitMs: no serialization, the sentence, then a PIN still signs in', () => {
    agent.option('OnlineWaitMs', 5000);
    try {
      const steps = tile('phone', 'wait=30000', 'serialize', `pin=${pins.pin(1)}`, 'serialize');
      expect(steps[3]).toMatchObject({ changed: 1, autoLogon: 0, status: SAY.noAnswer });
      expect(steps[4]).toMatchObject({ response: 0, serialization: null });
      expect(steps[6]!.serialization).toMatchObject({ user: agent.user, password: PASSWORD });
    } finally {
      agent.option('OnlineWaitMs', undefined);
    }
  }, 180_000);

  it('neither the password nor k in the Control Center database or log, the agent log, or its state', () => {
    expect(copyKeys).toHaveLength(1);
    const haystacks: [string, Buffer][] = [
      ['the Control Center log', Buffer.from(cc.stdout + cc.stderr)],
      ["the phone's serve output", Buffer.from(phone.serveOutput)],
      ['the agent log', readFileSync(agent.serviceLog)],
    ];
    for (const file of readdirSync(dir).filter((name) => name.startsWith('cc.db')))
      haystacks.push([file, readFileSync(join(dir, file))]);
    for (const file of filesUnder(agent.dataDir)) haystacks.push([file, readFileSync(file)]);
    expect(haystacks.map(([name]) => name)).toEqual(expect.arrayContaining(['cc.db']));
    expectNoSecrets(haystacks, [utf8(PASSWORD), utf16le(PASSWORD), ...copyKeys]);
  });
});
