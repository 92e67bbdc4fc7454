import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PhoneCopy } from '../../agent/state/windows-credential.js';
import type { UserState } from '../../agent/state/user-state.js';
import { FileVaultStore } from '../../phone/cli/vault-file.js';
import { loadCredentialKey } from '../../phone/core/credential-key.js';
import { utf8 } from '../../protocol/bytes.js';
import { copyKeyFor } from '../../protocol/credential-wrap.js';
import type { Reply } from '../../protocol/ipc-messages.js';
import { utf16le } from '../../protocol/windows-logon-credential.js';
import { installToken, putSettings, queryDb, startTestCc, type TestCc } from '../control-center/helpers.js';
import {
  Phone,
  makeTempDir,
  startInProcessAgent,
  writeAgentConfig,
  type InProcessAgent,
} from '../helpers/agent-harness.js';
import {
  askAsElevatedAdministrator,
  askAtLockScreen,
  logonCredentialOf,
  pinAtLockScreen,
  windowsStandIn,
} from '../helpers/lock-screen.js';
import { PhoneCli, pairThroughAgent } from '../helpers/online-stack.js';
import { agentStateStore, expectNoSecrets, expectReleasesFound, haystacksUnder } from '../helpers/phone-release.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';

const USER = 'CORP\\alice';
const SID = 'S-1-5-21-1004336348-1177238915-682003330-1103';
const FIRST = 'Winter is coming ☃ 2026';
const SECOND = 'correct horse battery stäple';
let current = FIRST;
let cc: TestCc;
let agent: InProcessAgent;
let phone: PhoneCli;
let pins: Phone;
const outputs: CliResult[] = [];
/** Every copy key k a phone copy of the password was sealed with: none may appear anywhere. */
const copyKeys: Uint8Array[] = [];

beforeAll(async () => {
  cc = await startTestCc();
  await putSettings(cc, { offlineMode: true, pinCount: 10 });
  const files = await writeAgentConfig(await makeTempDir(), { offlineMode: true, pinCount: 10 });
  agent = await startInProcessAgent(files, {
    windows: windowsStandIn(USER, SID, () => current),
  });
  phone = await PhoneCli.create(await makeTempDir('latchkey-winphone-'), 'alice');
}, 90_000);

afterAll(async () => {
  await phone?.stopServing();
  await agent?.close();
  await cc?.close();
});

async function agentState(): Promise<UserState> {
  const state = await agentStateStore(agent.files).read(USER);
  if (!state) throw new Error('no state for the user');
  return state;
}

async function cli(args: string[], input?: string): Promise<CliResult> {
  const result = await runCli([...args, '--socket', agent.files.socket], { input, timeoutMs: 60_000 });
  outputs.push(result);
  return result;
}

const onlineAuth = { op: 'online-auth', user: USER, context: 'cp:unlock', wait: 30_000 } as const;

/** The system's lock screen signing in with the phone (the phone serving, approving what comes). */
function signInAtLockScreen(): Promise<Reply> {
  return askAtLockScreen(agent.files.socket, USER, onlineAuth);
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
  const state = await agentState();
  const copy = state.windowsCredential?.copies.find((held): held is PhoneCopy => held.holder === 'phone');
  if (!copy) throw new Error('the phone holds no copy');
  const passphrase = (await fs.readFile(phone.passphraseFile, 'utf8')).split('\n')[0]!;
  const vault = await (await FileVaultStore.open(phone.home, utf8(passphrase))).read();
  const pairing = vault.pairings.find((held) => held.credentialKey?.public === state.devices[0]!.credentialKey);
  const k = await copyKeyFor((await loadCredentialKey(pairing?.credentialKey))!, copy.eph);
  if (!k) throw new Error('the phone cannot open its copy');
  return k;
}

/** The credential field of the Control Center's newest auth request: what the phone was asked. */
function newestAsk(): string | null {
  return queryDb<{ credential: string | null }>(
    cc.databaseFile,
    'SELECT credential FROM auth_requests ORDER BY created_at DESC LIMIT 1',
  )[0]!.credential;
}

describe('the Windows password released by the phone, through the agent (docs/windows.md §6.5)', () => {
  it('the PINs keep it from enrollment; the phone paired online gets its copy at the next unlock', async () => {
    const enrolled = await cli(['enroll', '--user', USER, '--windows-password', '--json'], `${FIRST}\n`);
    expect(enrolled.code, enrolled.stderr).toBe(0);
    pins = new Phone(utf8((JSON.parse(enrolled.stdout) as { uri: string }).uri));

    const joined = await cli(
      ['workstation', 'enroll', '--url', cc.url, '--name', 'ws-windows'],
      `${await installToken(cc)}\n`,
    );
    expect(joined.code, joined.stderr).toBe(0);
    await pairThroughAgent(agent.files.socket, USER, phone, cc.url);
    const paired = await agentState();
    expect(paired.devices).toHaveLength(1);
    expect(paired.devices[0]!.credentialKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // Paired after the capture: no copy yet, so the phone is approved but asked for nothing.
    expect(paired.windowsCredential!.copies.every((copy) => copy.holder === 'pin')).toBe(true);
    phone.startServing();
    await signInUnasked();

    // A PIN unlock at the lock screen opens the password and seals the phone the copy it lacked.
    const unlocked = await pinAtLockScreen(agent.files.socket, USER, pins.pin(0));
    expect(logonCredentialOf(unlocked)).toEqual({ domain: 'CORP', user: 'alice', password: FIRST });
    const sealed = (await agentState()).windowsCredential!;
    expect(sealed.copies.filter((copy) => copy.holder === 'phone')).toMatchObject([
      { deviceId: paired.devices[0]!.deviceId },
    ]);
    copyKeys.push(await phoneCopyKey());
  }, 180_000);

  it('online-auth from the lock screen of the system: accepted, with the logon credential in secret', async () => {
    const accepted = await signInAtLockScreen();
    expect(accepted.status).toBe('accepted');
    expect(logonCredentialOf(accepted)).toEqual({ domain: 'CORP', user: 'alice', password: FIRST });
    // The Control Center relayed a signed ask naming the phone's copy, and the release: ciphertext only.
    const ask = JSON.parse(newestAsk()!) as { copies: { deviceId: string }[] };
    expect(ask.copies.map((copy) => copy.deviceId)).toEqual([(await agentState()).devices[0]!.deviceId]);
  }, 90_000);

  it('not from a lock screen, or from an administrator who is not the system: accepted, no credential, no ask', async () => {
    const plain = await agent.ask(onlineAuth, 40_000);
    expect(plain.status).toBe('accepted');
    expect(plain.secret).toBeUndefined();
    expect(newestAsk()).toBeNull();

    expect(await askAsElevatedAdministrator(agent.files.socket, USER, onlineAuth)).toEqual({
      status: 'accepted',
      secret: false,
    });
    expect(newestAsk()).toBeNull();
  }, 120_000);

  it('a capture at the tile re-wraps the new password to the phone, whose release then hands it back', async () => {
    current = SECOND;
    const captured = await askAtLockScreen(agent.files.socket, USER, {
      op: 'credential-capture',
      user: USER,
      password: utf8(SECOND),
    });
    expect(captured.status).toBe('ok');
    const credential = (await agentState()).windowsCredential!;
    expect(credential.generation).toBe(2);
    expect(credential.copies.some((copy) => copy.holder === 'phone')).toBe(true);
    copyKeys.push(await phoneCopyKey());
    expect(logonCredentialOf(await signInAtLockScreen())).toEqual({ domain: 'CORP', user: 'alice', password: SECOND });
    // The PINs got the new password in the same capture.
    const unlocked = await pinAtLockScreen(agent.files.socket, USER, pins.pin(1));
    expect(logonCredentialOf(unlocked).password).toBe(SECOND);
  }, 120_000);

  it('Windows refused the handed-back password: while stale the phone is not asked for it; the next capture clears it (§6.6)', async () => {
    const generation = (await agentState()).windowsCredential!.generation;
    const refused = await askAtLockScreen(agent.files.socket, USER, {
      op: 'credential-refused',
      user: USER,
      generation,
    });
    expect(refused).toMatchObject({ status: 'ok', stale: true });
    expect(await signInUnasked()).toMatchObject({ stale: true }); // no credential asked of the phone
    const captured = await askAtLockScreen(agent.files.socket, USER, {
      op: 'credential-capture',
      user: USER,
      password: utf8(SECOND),
    });
    expect(captured.status).toBe('ok');
    expect((await agentState()).windowsCredential).toMatchObject({ generation: generation + 1 });
    expect((await agentState()).windowsCredential!.stale).toBeUndefined();
    copyKeys.push(await phoneCopyKey());
    const again = await signInAtLockScreen();
    expect(again).toMatchObject({ status: 'accepted', generation: generation + 1 });
    expect(logonCredentialOf(again).password).toBe(SECOND);
  }, 120_000);

  it('a phone that pairs again keeps its deviceId and gets a new CK: its old copy goes in that write, a new one comes at the next unlock', async () => {
    await phone.stopServing();
    const before = (await agentState()).devices[0]!;
    await pairThroughAgent(agent.files.socket, USER, phone, cc.url);
    const repaired = await agentState();
    expect(repaired.devices).toHaveLength(1);
    expect(repaired.devices[0]!.deviceId).toBe(before.deviceId);
    expect(repaired.devices[0]!.credentialKey).not.toBe(before.credentialKey);
    // The copy sealed to the old CK no phone can open any more: gone with the write that paired again.
    expect(repaired.windowsCredential!.copies.filter((copy) => copy.holder === 'phone')).toEqual([]);
    phone.startServing();
    await signInUnasked();

    const unlocked = await pinAtLockScreen(agent.files.socket, USER, pins.pin(2));
    expect(logonCredentialOf(unlocked).password).toBe(SECOND);
    copyKeys.push(await phoneCopyKey());
    expect(logonCredentialOf(await signInAtLockScreen())).toEqual({ domain: 'CORP', user: 'alice', password: SECOND });
  }, 180_000);

  it('neither password nor any k reaches the database, a log, the audit, the state or an output', async () => {
    await phone.stopServing();
    expect(copyKeys).toHaveLength(4);
    const haystacks: [string, Buffer][] = [
      ['the Control Center log', Buffer.from(cc.logLines.join('\n'))],
      ['the agent log', Buffer.from(agent.logLines.join('\n'))],
      ['the CLI output', Buffer.from(outputs.map((o) => o.stdout + o.stderr).join('\n'))],
      ["the phone's serve output", Buffer.from(phone.serveOutput)],
    ];
    haystacks.push(...(await haystacksUnder(path.dirname(cc.databaseFile))));
    haystacks.push(['vault', await fs.readFile(path.join(phone.home, 'vault.json'))]);
    haystacks.push(...(await haystacksUnder(agent.files.dir)));
    // The search reaches what it should: the audit and the state journal are among the haystacks.
    expect(haystacks.map(([name]) => name)).toEqual(
      expect.arrayContaining(['audit.jsonl', expect.stringMatching(/\.journal$/)]),
    );
    expectReleasesFound(cc.databaseFile, 4, haystacks);
    expectNoSecrets(haystacks, [utf8(FIRST), utf16le(FIRST), utf8(SECOND), utf16le(SECOND), ...copyKeys]);
  });
});
