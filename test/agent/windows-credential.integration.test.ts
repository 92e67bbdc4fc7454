/**
 * The Windows password through the real agent over its real socket (docs/windows.md §5–6), on
 * Linux: the agent is told it decides for win32, accounts resolve to SIDs and the password check
 * is a stand-in (LogonUserW is the other side of the platform seam, proven under wine). The caller
 * is root — on Linux the same shape as SYSTEM (the agent's own account, acting as itself).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PasswordCheck } from '../../platform/password-check.js';
import { utf8 } from '../../protocol/bytes.js';
import type { Reply } from '../../protocol/ipc-messages.js';
import {
  Phone,
  makeTempDir,
  startInProcessAgent,
  writeAgentConfig,
  type InProcessAgent,
} from '../helpers/agent-harness.js';
import { readFile } from 'node:fs/promises';
import {
  askAsElevatedAdministrator,
  askAtLockScreen,
  logonCredentialOf,
  pinAtLockScreen,
  session,
} from '../helpers/lock-screen.js';
import { runCli } from '../helpers/run-cli.js';

const USER = 'CORP\\alice';
const SID = 'S-1-5-21-1004336348-1177238915-682003330-1001';
const PASSWORDS = new Map([[USER, 'hunter2 \u2603']]);
const checks: string[] = [];
const passwordCheck: PasswordCheck = async ({ user, password }) => {
  checks.push(user);
  return PASSWORDS.get(user) === Buffer.from(password).toString('utf8')
    ? { ok: true }
    : { ok: false, code: 'password-rejected', message: 'the stand-in refused it' };
};

let agent: InProcessAgent | undefined;
afterEach(async () => {
  await agent?.close();
  agent = undefined;
  checks.length = 0;
});

async function start(platformName: NodeJS.Platform, policy: Record<string, unknown> = {}, again?: InProcessAgent) {
  const files =
    again?.files ?? (await writeAgentConfig(await makeTempDir(), { offlineMode: true, pinCount: 10, ...policy }));
  agent = await startInProcessAgent(files, {
    windows: {
      platformName,
      passwordCheck,
      // The account as LookupAccountNameW spells it, whatever case the request used, with or without its domain.
      lookupAccount: async (user) =>
        ['alice', USER.toLowerCase()].includes(user.toLowerCase()) ? { name: USER, uid: SID } : null,
    },
  });
  return agent;
}

async function enrollWithPassword(running: InProcessAgent, password = PASSWORDS.get(USER)!, authenticator = 'phone') {
  return running.ask({ op: 'enroll', user: USER, authenticator, password: utf8(password) }, 30_000);
}

/** A lock screen's exchange: status with the lock-screen flag, then the PIN, on one connection. */
function unlockAtLockScreen(running: InProcessAgent, pin: string): Promise<Reply> {
  return pinAtLockScreen(running.files.socket, USER, pin);
}

describe('the Windows password through the agent (docs/windows.md §5–6)', () => {
  it('keeps the password checked at enrollment and hands it back for an accepted PIN at the lock screen only', async () => {
    const running = await start('win32');
    const enrolled = await enrollWithPassword(running);
    expect(enrolled.status).toBe('ok');
    expect(checks).toEqual([USER]); // an administrator's password is checked too before it is kept
    const phone = new Phone(enrolled.secret!);

    const accepted = await unlockAtLockScreen(running, phone.pin(0));
    expect(accepted).toMatchObject({ status: 'accepted', remaining: 9 });
    expect(logonCredentialOf(accepted)).toEqual({ domain: 'CORP', user: 'alice', password: 'hunter2 \u2603' });

    // Not a lock-screen connection: accepted, no credential.
    const plain = await running.ask({ op: 'verify', user: USER, pin: utf8(phone.pin(1)), context: 'cli' });
    expect(plain.status).toBe('accepted');
    expect(plain.secret).toBeUndefined();
    // That PIN is spent: its copy left with it, so the next one still hands back the password.
    expect(logonCredentialOf(await unlockAtLockScreen(running, phone.pin(2))).password).toBe('hunter2 \u2603');
    // A replay and a wrong PIN: nothing.
    for (const pin of [phone.pin(2), 'ZZZZ-ZZZZ']) {
      const refused = await unlockAtLockScreen(running, pin);
      expect(refused.status).toBe('rejected');
      expect(refused.secret).toBeUndefined();
    }
    // The password is nowhere in the agent's log.
    expect(running.logLines.join('\n')).not.toContain('hunter2');
  });

  it("latchkey enroll --windows-password: an administrator passes the user's password on stdin, and it is kept", async () => {
    const running = await start('win32');
    const result = await runCli(
      ['enroll', '--user', USER, '--windows-password', '--json', '--socket', running.files.socket],
      { input: `${PASSWORDS.get(USER)}\n`, timeoutMs: 60_000 },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(checks).toEqual([USER]);
    const phone = new Phone(utf8((JSON.parse(result.stdout) as { uri: string }).uri));
    expect(logonCredentialOf(await unlockAtLockScreen(running, phone.pin(0))).password).toBe('hunter2 \u2603');
  });

  it('keeps one state per Windows account, whichever way a request spells it (alice, CORP\\alice, another case)', async () => {
    const running = await start('win32');
    const enrolled = await running.ask(
      { op: 'enroll', user: 'alice', authenticator: 'phone', password: utf8(PASSWORDS.get(USER)!) },
      30_000,
    );
    expect(enrolled.status).toBe('ok');
    const phone = new Phone(enrolled.secret!);
    // The unlock screen asks about the session's DOMAIN\\name: the same account, the same pool.
    const accepted = await unlockAtLockScreen(running, phone.pin(0));
    expect(accepted).toMatchObject({ status: 'accepted', remaining: 9 });
    expect(logonCredentialOf(accepted).user).toBe('alice');
    const status = await running.ask({ op: 'status', user: 'corp\\ALICE' });
    expect(status).toMatchObject({ status: 'ok', remaining: 9 });
    const listed = await running.ask({ op: 'list' });
    expect(JSON.stringify(listed)).not.toMatch(/"alice"/); // no second state under the bare name
  });

  it('keeps nothing and hands back nothing on Linux', async () => {
    const running = await start('linux');
    const enrolled = await enrollWithPassword(running);
    expect(enrolled.status).toBe('ok');
    expect(checks).toEqual([]); // root enrolls without a password check, as before
    const accepted = await unlockAtLockScreen(running, new Phone(enrolled.secret!).pin(0));
    expect(accepted.status).toBe('accepted');
    expect(accepted.secret).toBeUndefined();
  });

  it('refuses an enrollment whose password Windows does not accept, and keeps nothing', async () => {
    const running = await start('win32');
    const refused = await enrollWithPassword(running, 'wrong');
    expect(refused).toMatchObject({ status: 'error', reason: 'password-rejected' });
    expect(refused.secret).toBeUndefined();
  });

  it('accepts a PIN whose pool got no copy (no password at enrollment), with no credential', async () => {
    const running = await start('win32');
    const enrolled = await running.ask({ op: 'enroll', user: USER, authenticator: 'phone' }, 30_000);
    expect(enrolled.status).toBe('ok');
    const accepted = await unlockAtLockScreen(running, new Phone(enrolled.secret!).pin(0));
    expect(accepted.status).toBe('accepted');
    expect(accepted.secret).toBeUndefined();
    // The verify line is logged once the reply is on its way.
    await vi.waitFor(() => expect(running.logLines.find((line) => line.includes('credential'))).toMatch(/no-copy/));
  });

  it('credential-capture: only on a lock-screen connection, a password the OS accepts, then handed back', async () => {
    const running = await start('win32');
    const enrolled = await running.ask({ op: 'enroll', user: USER, authenticator: 'phone' }, 30_000);
    const phone = new Phone(enrolled.secret!);
    const newPassword = 'correct horse';
    PASSWORDS.set(USER, newPassword);
    try {
      // Not from a lock screen: refused.
      expect(await running.ask({ op: 'credential-capture', user: USER, password: utf8(newPassword) })).toMatchObject({
        status: 'error',
        reason: 'permission-denied',
      });
      const lockScreen = await session(running.files.socket);
      try {
        await lockScreen.ask({ op: 'status', user: USER, lockScreen: true });
        expect(await lockScreen.ask({ op: 'credential-capture', user: USER, password: utf8('wrong') })).toMatchObject({
          status: 'error',
          reason: 'password-rejected',
        });
      } finally {
        lockScreen.close();
      }
      const again = await session(running.files.socket);
      try {
        await again.ask({ op: 'status', user: USER, lockScreen: true });
        expect(await again.ask({ op: 'credential-capture', user: USER, password: utf8(newPassword) })).toMatchObject({
          status: 'ok',
        });
      } finally {
        again.close();
      }
      expect(logonCredentialOf(await unlockAtLockScreen(running, phone.pin(0))).password).toBe(newPassword);
    } finally {
      PASSWORDS.set(USER, 'hunter2 \u2603');
    }
  });

  it('a pool issued without the password gets its copies at the next unlock that opened one', async () => {
    const running = await start('win32');
    const first = new Phone((await enrollWithPassword(running, undefined, 'phone')).secret!);
    // A second phone enrolled by the administrator without a password: its PINs have no copy yet.
    const second = new Phone(
      (await running.ask({ op: 'enroll', user: USER, authenticator: 'tablet' }, 30_000)).secret!,
    );
    expect((await unlockAtLockScreen(running, second.pin(0))).secret).toBeUndefined();
    // An unlock with the first phone's PIN opens the password and seals the tablet's copies too.
    expect((await unlockAtLockScreen(running, first.pin(0))).secret).toBeDefined();
    expect(logonCredentialOf(await unlockAtLockScreen(running, second.pin(1))).password).toBe('hunter2 \u2603');
  });

  it('credential-refused: Windows refused the handed-back password — stale until the next capture (§6.6)', async () => {
    const STALE = 'Windows did not accept your saved password — sign in with your password once.';
    const running = await start('win32');
    const phone = new Phone((await enrollWithPassword(running)).secret!);
    const handed = await unlockAtLockScreen(running, phone.pin(0));
    expect(handed).toMatchObject({ status: 'accepted', generation: 1 });
    const refused = { op: 'credential-refused', user: USER, generation: 1 } as const;

    // Only the system's lock-screen connection may say so: not a plain connection, not an elevated administrator.
    expect(await running.ask(refused)).toMatchObject({ status: 'error', reason: 'permission-denied' });
    expect(await askAsElevatedAdministrator(running.files.socket, USER, refused)).toEqual({
      status: 'error',
      secret: false,
    });
    expect((await askAtLockScreen(running.files.socket, USER, { op: 'status', user: USER })).stale).toBeUndefined();

    expect(await askAtLockScreen(running.files.socket, USER, refused)).toMatchObject({ status: 'ok', stale: true });
    // The status a tile asks says it; the CLI's status does not carry it.
    expect(await askAtLockScreen(running.files.socket, USER, { op: 'status', user: USER })).toMatchObject({
      status: 'ok',
      usable: true,
      stale: true,
      message: STALE,
    });
    expect((await running.ask({ op: 'status', user: USER })).stale).toBeUndefined();
    // A PIN is still accepted (and spent), but no password Windows just refused is handed back.
    const accepted = await unlockAtLockScreen(running, phone.pin(1));
    expect(accepted).toMatchObject({ status: 'accepted', stale: true, message: STALE });
    expect(accepted.secret).toBeUndefined();
    expect(accepted.generation).toBeUndefined();
    // It survives a restart: the mark is in the sealed state.
    await running.close();
    agent = undefined;
    const restarted = await start('win32', {}, running);
    expect((await unlockAtLockScreen(restarted, phone.pin(2))).secret).toBeUndefined();

    // The person signs in with their password once: a capture (generation 2) clears the mark.
    expect(
      await askAtLockScreen(restarted.files.socket, USER, {
        op: 'credential-capture',
        user: USER,
        password: utf8(PASSWORDS.get(USER)!),
      }),
    ).toMatchObject({ status: 'ok' });
    const status = await askAtLockScreen(restarted.files.socket, USER, { op: 'status', user: USER });
    expect(status.stale).toBeUndefined();
    expect(status.message).not.toBe(STALE);
    const again = await unlockAtLockScreen(restarted, phone.pin(3));
    expect(again).toMatchObject({ status: 'accepted', generation: 2 });
    expect(logonCredentialOf(again).password).toBe('hunter2 \u2603');
    // A late report about generation 1 (a capture happened meanwhile) is ignored.
    expect(await askAtLockScreen(restarted.files.socket, USER, refused)).toMatchObject({ status: 'ok', stale: false });
    expect(logonCredentialOf(await unlockAtLockScreen(restarted, phone.pin(4))).password).toBe('hunter2 \u2603');

    // Each report is audited with what it came to; the log says it, never the password.
    const audit = (await readFile(restarted.files.auditLog, 'utf8'))
      .split('\n')
      .filter((line) => line.includes('credential-refused'))
      .map((line) => JSON.parse(line) as { result: string; reason: string });
    expect(audit.map(({ result, reason }) => [result, reason])).toEqual([
      ['ok', 'marked'],
      ['ignored', 'older-generation'],
    ]);
    expect(restarted.logLines.join('\n')).not.toContain('hunter2');
  });

  it('credential-refused on Linux: permission-denied, even on a lock-screen connection', async () => {
    const running = await start('linux');
    await enrollWithPassword(running);
    expect(
      await askAtLockScreen(running.files.socket, USER, { op: 'credential-refused', user: USER, generation: 1 }),
    ).toMatchObject({ status: 'error', reason: 'permission-denied' });
  });
});
