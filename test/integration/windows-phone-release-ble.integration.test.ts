/**
 * The Windows password released by a phone over Bluetooth, end to end (docs/windows.md §6.5,
 * docs/ble-protocol.md §5.1 request 0x02) through the real agent over its real socket, told it
 * decides for win32 (test/helpers/agent-harness.ts `windows`), on the virtual controller (a process
 * on ptys): `latchkey enroll --windows-password` keeps the password for the PINs, `latchkey ble
 * pair` with `latchkey phone ble pair` leaves CK.pub on the blePhones[] record, a PIN unlock at the
 * lock screen seals the phone its copy, and `ble-auth` from the system's lock-screen connection,
 * approved by `latchkey phone ble serve --auto-approve`, hands back the logon credential in
 * `secret`. Not from a lock screen, or from an elevated administrator who is not the system:
 * accepted, no credential. Neither the password nor k reaches a log, an output, the audit or the state.
 */
import { promises as fs } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { PhoneCopy } from '../../agent/state/windows-credential.js';
import { FileVaultStore } from '../../phone/cli/vault-file.js';
import { loadCredentialKey } from '../../phone/core/credential-key.js';
import { utf8 } from '../../protocol/bytes.js';
import { copyKeyFor } from '../../protocol/credential-wrap.js';
import { utf16le } from '../../protocol/windows-logon-credential.js';
import { Phone } from '../helpers/agent-harness.js';
import { BlePhoneProcess, pairOverBluetooth } from '../helpers/ble-stack.js';
import {
  askAsElevatedAdministrator,
  askAtLockScreen,
  logonCredentialOf,
  pinAtLockScreen,
} from '../helpers/lock-screen.js';
import { bleReleaseSetForSuite } from '../helpers/phone-release-fixture.js';
import { expectNoSecrets, haystacksUnder } from '../helpers/phone-release.js';
import { runCli } from '../helpers/run-cli.js';

const USER = 'CORP\\bob';
const SID = 'S-1-5-21-1004336348-1177238915-682003330-1104';
const PASSWORD = 'Blåtand ☃ over the air 7';
let serving: BlePhoneProcess | null = null;
const set = bleReleaseSetForSuite({
  tempPrefix: 'latchkey-winble-',
  phoneName: 'Bob phone',
  windows: { user: USER, sid: SID, password: () => PASSWORD },
});

const bleAuth = { op: 'ble-auth', user: USER, context: 'cp:unlock', wait: 8_000 } as const;

describe('the Windows password released by the phone over Bluetooth, through the agent (docs/windows.md §6.5)', () => {
  it('the PINs keep it from enrollment; the phone paired over Bluetooth gets its copy at the next unlock', async () => {
    const enrolled = await runCli(
      ['enroll', '--user', USER, '--windows-password', '--json', '--socket', set.agent.files.socket],
      {
        input: `${PASSWORD}\n`,
        timeoutMs: 60_000,
      },
    );
    set.outputs.push(enrolled);
    expect(enrolled.code, enrolled.stderr).toBe(0);
    const pins = new Phone(utf8((JSON.parse(enrolled.stdout) as { uri: string }).uri));

    set.outputs.push(await pairOverBluetooth(set.agent.files.socket, USER, set.phone, set.controller.ports.phone!));
    const record = (await set.state(USER)).blePhones[0]!;
    expect(record.credentialKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await set.state(USER)).windowsCredential!.copies.every((copy) => copy.holder === 'pin')).toBe(true);

    const unlocked = await pinAtLockScreen(set.agent.files.socket, USER, pins.pin(0));
    expect(logonCredentialOf(unlocked)).toEqual({ domain: 'CORP', user: 'bob', password: PASSWORD });
    const copy = (await set.state(USER)).windowsCredential!.copies.find(
      (held): held is PhoneCopy => held.holder === 'phone',
    );
    expect(copy).toMatchObject({ deviceId: record.deviceId, credentialKey: record.credentialKey });
    const passphrase = (await fs.readFile(set.phone.passphraseFile, 'utf8')).split('\n')[0]!;
    const vault = await (await FileVaultStore.open(set.phone.home, utf8(passphrase))).read();
    const pairing = vault.blePairings!.find((held) => held.id === record.deviceId)!;
    set.copyKeys.push((await copyKeyFor((await loadCredentialKey(pairing.credentialKey))!, copy!.eph))!);
  }, 180_000);

  it('ble-auth from the lock screen of the system: the phone releases k, the reply carries the logon credential', async () => {
    // A pool an administrator enrolled without the password: no copies until the password is open again.
    const enrolled = await set.agent.ask({ op: 'enroll', user: USER, authenticator: 'tablet' }, 30_000);
    expect(enrolled.status).toBe('ok');
    const tablet = new Phone(enrolled.secret!);
    const tabletPool = (await set.state(USER)).pools.find((pool) => pool.authenticatorId === 'tablet')!;
    const tabletCopies = async () =>
      (await set.state(USER)).windowsCredential!.copies.filter(
        (copy) => copy.holder === 'pin' && copy.poolId === tabletPool.poolId,
      );
    expect(await tabletCopies()).toEqual([]);

    serving = set.stack.stop(await BlePhoneProcess.start(set.phone, set.controller.ports.phone!), (s) => s.stop());
    const session = serving.nextSession(30_000);
    const accepted = await askAtLockScreen(set.agent.files.socket, USER, bleAuth);
    expect(accepted.status, accepted.message).toBe('accepted');
    expect(logonCredentialOf(accepted)).toEqual({ domain: 'CORP', user: 'bob', password: PASSWORD });
    expect(await session).toMatch(/^Unlocked/);
    // While the release held the password open, the tablet's PINs got their copies (§6.6).
    expect(await tabletCopies()).toHaveLength(10);
    const viaTablet = await pinAtLockScreen(set.agent.files.socket, USER, tablet.pin(0));
    expect(logonCredentialOf(viaTablet).password).toBe(PASSWORD);
  }, 90_000);

  it('not from a lock screen, or from an administrator who is not the system: accepted, no credential', async () => {
    const plain = await set.agent.ask(bleAuth, 30_000);
    expect(plain.status, plain.message).toBe('accepted');
    expect(plain.secret).toBeUndefined();
    expect(await askAsElevatedAdministrator(set.agent.files.socket, USER, bleAuth)).toEqual({
      status: 'accepted',
      secret: false,
    });
  }, 90_000);

  it('neither the password nor k reaches a log, an output, the controller, the audit or the state', async () => {
    await serving?.stop();
    const haystacks: [string, Buffer][] = [
      ['the agent log', Buffer.from(set.agent.logLines.join('\n'))],
      ['the CLI output', Buffer.from(set.outputs.map((o) => o.stdout + o.stderr).join('\n'))],
      ["the phone's serve output", Buffer.from(serving?.output ?? '')],
      ['the controller', Buffer.from(set.controller.stderr())],
    ];
    haystacks.push(...(await haystacksUnder(set.dir)));
    expect(haystacks.map(([name]) => name)).toEqual(
      expect.arrayContaining([
        'audit.jsonl',
        expect.stringMatching(/\.journal$/),
        expect.stringMatching(/vault\.json$/),
      ]),
    );
    expectNoSecrets(haystacks, [utf8(PASSWORD), utf16le(PASSWORD), ...set.copyKeys]);
  });
});
