import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PhoneCopy } from '../../agent/state/windows-credential.js';
import { FileVaultStore } from '../../phone/cli/vault-file.js';
import { loadCredentialKey } from '../../phone/core/credential-key.js';
import { utf8 } from '../../protocol/bytes.js';
import { copyKeyFor } from '../../protocol/credential-wrap.js';
import type { Reply } from '../../protocol/ipc-messages.js';
import { utf16le } from '../../protocol/windows-logon-credential.js';
import { installToken, queryDb } from '../control-center/helpers.js';
import { Phone } from '../helpers/agent-harness.js';
import {
  askAsElevatedAdministrator,
  askAtLockScreen,
  logonCredentialOf,
  pinAtLockScreen,
} from '../helpers/lock-screen.js';
import { pairThroughAgent } from '../helpers/online-stack.js';
import { onlineReleaseSetForSuite } from '../helpers/phone-release-fixture.js';
import { expectNoSecrets, expectReleasesFound, haystacksUnder } from '../helpers/phone-release.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';

const USER = 'CORP\\alice';
const SID = 'S-1-5-21-1004336348-1177238915-682003330-1103';
const FIRST = 'Winter is coming ☃ 2026';
const SECOND = 'correct horse battery stäple';
let current = FIRST;
let pins: Phone;
const set = onlineReleaseSetForSuite({
  phoneTempPrefix: 'latchkey-winphone-',
  phoneName: 'alice',
  windows: { user: USER, sid: SID, password: () => current },
});

async function cli(args: string[], input?: string): Promise<CliResult> {
  const result = await runCli([...args, '--socket', set.agent.files.socket], { input, timeoutMs: 60_000 });
  set.outputs.push(result);
  return result;
}

const onlineAuth = { op: 'online-auth', user: USER, context: 'cp:unlock', wait: 30_000 } as const;

/** The system's lock screen signing in with the phone (the phone serving, approving what comes). */
function signInAtLockScreen(): Promise<Reply> {
  return askAtLockScreen(set.agent.files.socket, USER, onlineAuth);
}

/** The lock screen's sign-in, approved by the phone but with no password asked of it: accepted, no secret. */
async function signInUnasked(): Promise<Reply> {
  const reply = await signInAtLockScreen();
  expect(reply.status).toBe('accepted');
  expect(reply.secret).toBeUndefined();
  expect(newestAsk()).toBeNull();
  return reply;
}

/** The copy key k the phone's current copy was sealed with, as the phone would compute it from CK. */
async function phoneCopyKey(): Promise<Uint8Array> {
  const state = await set.state(USER);
  const copy = state.windowsCredential?.copies.find((held): held is PhoneCopy => held.holder === 'phone');
  if (!copy) throw new Error('the phone holds no copy');
  const passphrase = (await fs.readFile(set.phone.passphraseFile, 'utf8')).split('\n')[0]!;
  const vault = await (await FileVaultStore.open(set.phone.home, utf8(passphrase))).read();
  const pairing = vault.pairings.find((held) => held.credentialKey?.public === state.devices[0]!.credentialKey);
  const k = await copyKeyFor((await loadCredentialKey(pairing?.credentialKey))!, copy.eph);
  if (!k) throw new Error('the phone cannot open its copy');
  return k;
}

/** The credential field of the Control Center's newest auth request: what the phone was asked. */
function newestAsk(): string | null {
  return queryDb<{ credential: string | null }>(
    set.cc.databaseFile,
    'SELECT credential FROM auth_requests ORDER BY created_at DESC LIMIT 1',
  )[0]!.credential;
}

describe('the Windows password released by the phone, through the agent (docs/windows.md §6.5)', () => {
  it('the PINs keep it from enrollment; the phone paired online gets its copy at the next unlock', async () => {
    const enrolled = await cli(['enroll', '--user', USER, '--windows-password', '--json'], `${FIRST}\n`);
    expect(enrolled.code, enrolled.stderr).toBe(0);
    pins = new Phone(utf8((JSON.parse(enrolled.stdout) as { uri: string }).uri));

    const joined = await cli(
      ['workstation', 'enroll', '--url', set.cc.url, '--name', 'ws-windows'],
      `${await installToken(set.cc)}\n`,
    );
    expect(joined.code, joined.stderr).toBe(0);
    await pairThroughAgent(set.agent.files.socket, USER, set.phone, set.cc.url);
    const paired = await set.state(USER);
    expect(paired.devices).toHaveLength(1);
    expect(paired.devices[0]!.credentialKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // Paired after the capture: no copy yet, so the phone is approved but asked for nothing.
    expect(paired.windowsCredential!.copies.every((copy) => copy.holder === 'pin')).toBe(true);
    set.phone.startServing();
    await signInUnasked();

    // A PIN unlock at the lock screen opens the password and seals the phone the copy it lacked.
    const unlocked = await pinAtLockScreen(set.agent.files.socket, USER, pins.pin(0));
    expect(logonCredentialOf(unlocked)).toEqual({ domain: 'CORP', user: 'alice', password: FIRST });
    const sealed = (await set.state(USER)).windowsCredential!;
    expect(sealed.copies.filter((copy) => copy.holder === 'phone')).toMatchObject([
      { deviceId: paired.devices[0]!.deviceId },
    ]);
    set.copyKeys.push(await phoneCopyKey());
  }, 180_000);

  it('online-auth from the lock screen of the system: accepted, with the logon credential in secret', async () => {
    const accepted = await signInAtLockScreen();
    expect(accepted.status).toBe('accepted');
    expect(logonCredentialOf(accepted)).toEqual({ domain: 'CORP', user: 'alice', password: FIRST });
    // The Control Center relayed a signed ask naming the phone's copy, and the release: ciphertext only.
    const ask = JSON.parse(newestAsk()!) as { copies: { deviceId: string }[] };
    expect(ask.copies.map((copy) => copy.deviceId)).toEqual([(await set.state(USER)).devices[0]!.deviceId]);
  }, 90_000);

  it('not from a lock screen, or from an administrator who is not the system: accepted, no credential, no ask', async () => {
    const plain = await set.agent.ask(onlineAuth, 40_000);
    expect(plain.status).toBe('accepted');
    expect(plain.secret).toBeUndefined();
    expect(newestAsk()).toBeNull();

    expect(await askAsElevatedAdministrator(set.agent.files.socket, USER, onlineAuth)).toEqual({
      status: 'accepted',
      secret: false,
    });
    expect(newestAsk()).toBeNull();
  }, 120_000);

  it('a capture at the tile re-wraps the new password to the phone, whose release then hands it back', async () => {
    current = SECOND;
    const captured = await askAtLockScreen(set.agent.files.socket, USER, {
      op: 'credential-capture',
      user: USER,
      password: utf8(SECOND),
    });
    expect(captured.status).toBe('ok');
    const credential = (await set.state(USER)).windowsCredential!;
    expect(credential.generation).toBe(2);
    expect(credential.copies.some((copy) => copy.holder === 'phone')).toBe(true);
    set.copyKeys.push(await phoneCopyKey());
    expect(logonCredentialOf(await signInAtLockScreen())).toEqual({ domain: 'CORP', user: 'alice', password: SECOND });
    // The PINs got the new password in the same capture.
    const unlocked = await pinAtLockScreen(set.agent.files.socket, USER, pins.pin(1));
    expect(logonCredentialOf(unlocked).password).toBe(SECOND);
  }, 120_000);

  it('Windows refused the handed-back password: while stale the phone is not asked for it; the next capture clears it (§6.6)', async () => {
    const generation = (await set.state(USER)).windowsCredential!.generation;
    const refused = await askAtLockScreen(set.agent.files.socket, USER, {
      op: 'credential-refused',
      user: USER,
      generation,
    });
    expect(refused).toMatchObject({ status: 'ok', stale: true });
    expect(await signInUnasked()).toMatchObject({ stale: true }); // no credential asked of the phone
    const captured = await askAtLockScreen(set.agent.files.socket, USER, {
      op: 'credential-capture',
      user: USER,
      password: utf8(SECOND),
    });
    expect(captured.status).toBe('ok');
    expect((await set.state(USER)).windowsCredential).toMatchObject({ generation: generation + 1 });
    expect((await set.state(USER)).windowsCredential!.stale).toBeUndefined();
    set.copyKeys.push(await phoneCopyKey());
    const again = await signInAtLockScreen();
    expect(again).toMatchObject({ status: 'accepted', generation: generation + 1 });
    expect(logonCredentialOf(again).password).toBe(SECOND);
  }, 120_000);

  it('a phone that pairs again keeps its deviceId and gets a new CK: its old copy goes in that write, a new one comes at the next unlock', async () => {
    await set.phone.stopServing();
    const before = (await set.state(USER)).devices[0]!;
    await pairThroughAgent(set.agent.files.socket, USER, set.phone, set.cc.url);
    const repaired = await set.state(USER);
    expect(repaired.devices).toHaveLength(1);
    expect(repaired.devices[0]!.deviceId).toBe(before.deviceId);
    expect(repaired.devices[0]!.credentialKey).not.toBe(before.credentialKey);
    // The copy sealed to the old CK no phone can open any more: gone with the write that paired again.
    expect(repaired.windowsCredential!.copies.filter((copy) => copy.holder === 'phone')).toEqual([]);
    set.phone.startServing();
    await signInUnasked();

    const unlocked = await pinAtLockScreen(set.agent.files.socket, USER, pins.pin(2));
    expect(logonCredentialOf(unlocked).password).toBe(SECOND);
    set.copyKeys.push(await phoneCopyKey());
    expect(logonCredentialOf(await signInAtLockScreen())).toEqual({ domain: 'CORP', user: 'alice', password: SECOND });
  }, 180_000);

  it('neither password nor any k reaches the database, a log, the audit, the state or an output', async () => {
    await set.phone.stopServing();
    expect(set.copyKeys).toHaveLength(4);
    const haystacks: [string, Buffer][] = [
      ['the Control Center log', Buffer.from(set.cc.logLines.join('\n'))],
      ['the agent log', Buffer.from(set.agent.logLines.join('\n'))],
      ['the CLI output', Buffer.from(set.outputs.map((o) => o.stdout + o.stderr).join('\n'))],
      ["the phone's serve output", Buffer.from(set.phone.serveOutput)],
    ];
    haystacks.push(...(await haystacksUnder(path.dirname(set.cc.databaseFile))));
    haystacks.push(['vault', await fs.readFile(path.join(set.phone.home, 'vault.json'))]);
    haystacks.push(...(await haystacksUnder(set.agent.files.dir)));
    // The search reaches what it should: the audit and the state journal are among the haystacks.
    expect(haystacks.map(([name]) => name)).toEqual(
      expect.arrayContaining(['audit.jsonl', expect.stringMatching(/\.journal$/)]),
    );
    expectReleasesFound(set.cc.databaseFile, 4, haystacks);
    expectNoSecrets(haystacks, [utf8(FIRST), utf16le(FIRST), utf8(SECOND), utf16le(SECOND), ...set.copyKeys]);
  });
});
