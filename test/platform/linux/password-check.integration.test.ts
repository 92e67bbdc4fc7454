/**
 * checkPassword against the real PAM stack: a real user with a real password in /etc/shadow,
 * real service files in /etc/pam.d, pam_unix (which sleeps ~2 s after a failure) and pam_exec.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPassword } from '../../../platform/linux/password-check.js';
import { administer, distModule, removeUser, requireRoot } from './helpers.js';

const USER = 'latchkey-pwtest';
const PASSWORD = 'Correct horse 7 battery';
const SERVICE = 'latchkey-pwtest';
const SLOW_SERVICE = 'latchkey-pwtest-slow';
const MISSING_SERVICE = 'latchkey-pwtest-missing';
const PAM_DIR = '/etc/pam.d';
const REJECTED = { ok: false, code: 'password-rejected' };
const UNAVAILABLE = { ok: false, code: 'password-check-unavailable' };

const bytes = (text: string) => new TextEncoder().encode(text);

beforeAll(() => {
  requireRoot('The PAM password-check suite');
  distModule('password-check-child.js');
  mkdirSync(PAM_DIR, { recursive: true });
  writeFileSync(`${PAM_DIR}/${SERVICE}`, 'auth required pam_unix.so\naccount required pam_unix.so\n');
  writeFileSync(
    `${PAM_DIR}/${SLOW_SERVICE}`,
    'auth required pam_exec.so /bin/sleep 10\naccount required pam_unix.so\n',
  );
  rmSync(`${PAM_DIR}/${MISSING_SERVICE}`, { force: true });
  try {
    administer('useradd', ['-M', '-s', '/usr/sbin/nologin', USER]);
  } catch (error) {
    if (!/already exists/.test((error as Error).message)) throw error;
  }
  administer('chpasswd', [], `${USER}:${PASSWORD}\n`);
});

afterAll(() => {
  if (process.getuid?.() !== 0) return;
  rmSync(`${PAM_DIR}/${SERVICE}`, { force: true });
  rmSync(`${PAM_DIR}/${SLOW_SERVICE}`, { force: true });
  removeUser(USER);
});

/** Live (non-zombie) processes: pid, parent and command line. */
function processes(): Array<{ pid: number; ppid: number; cmdline: string[] }> {
  const list = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state === 'Z') continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      list.push({ pid: Number(entry), ppid: Number(ppid), cmdline });
    } catch {
      // Gone while we looked.
    }
  }
  return list;
}

describe('checkPassword (PAM in a child process)', () => {
  it('accepts the right password', async () => {
    expect(await checkPassword({ service: SERVICE, user: USER, password: bytes(PASSWORD) })).toEqual({ ok: true });
  });

  it('rejects a wrong password, without repeating it', async () => {
    const result = await checkPassword({ service: SERVICE, user: USER, password: bytes('wrong horse') });
    expect(result).toMatchObject(REJECTED);
    expect(JSON.stringify(result)).not.toContain('wrong horse');
  });

  it('answers an unknown user exactly like a wrong password', async () => {
    const [unknown, wrong] = await Promise.all([
      checkPassword({ service: SERVICE, user: 'latchkey-no-such-user', password: bytes(PASSWORD) }),
      checkPassword({ service: SERVICE, user: USER, password: bytes('wrong horse') }),
    ]);
    expect(unknown).toMatchObject(REJECTED);
    expect(unknown).toEqual(wrong);
  });

  it('rejects the right password for an expired account (pam_acct_mgmt)', async () => {
    administer('chage', ['-E', '0', USER]);
    try {
      expect(await checkPassword({ service: SERVICE, user: USER, password: bytes(PASSWORD) })).toMatchObject(REJECTED);
    } finally {
      administer('chage', ['-E', '-1', USER]);
    }
  });

  it('is unavailable when the service has no file in /etc/pam.d (no fallback to "other")', async () => {
    const result = await checkPassword({ service: MISSING_SERVICE, user: USER, password: bytes(PASSWORD) });
    expect(result).toMatchObject({ ...UNAVAILABLE, message: expect.stringContaining(`${PAM_DIR}/${MISSING_SERVICE}`) });
  });

  it('refuses without starting PAM a password with a NUL byte, an empty one or one over 512 bytes', async () => {
    // The slow service would time out (unavailable) if a child were started.
    for (const password of [bytes('abc\0def'), new Uint8Array(0), new Uint8Array(513).fill(0x61)]) {
      const started = Date.now();
      expect(await checkPassword({ service: SLOW_SERVICE, user: USER, password, timeoutMs: 500 })).toMatchObject(
        REJECTED,
      );
      expect(Date.now() - started).toBeLessThan(200);
    }
  });

  it('refuses service and user names that are not plain names', async () => {
    expect(await checkPassword({ service: '../shadow', user: USER, password: bytes(PASSWORD) })).toMatchObject(
      UNAVAILABLE,
    );
    expect(await checkPassword({ service: SERVICE, user: '-root', password: bytes(PASSWORD) })).toMatchObject(REJECTED);
    expect(await checkPassword({ service: SERVICE, user: `${USER}\n`, password: bytes(PASSWORD) })).toMatchObject(
      REJECTED,
    );
  });

  it('kills a check that outlives its timeout, with what PAM started, and answers unavailable', async () => {
    const started = Date.now();
    // Long enough for the child to start node, load PAM and reach pam_exec's sleep under load.
    const pending = checkPassword({ service: SLOW_SERVICE, user: USER, password: bytes(PASSWORD), timeoutMs: 2_000 });
    let child: number | undefined;
    await expect
      .poll(
        () =>
          (child = processes().find(
            (p) => p.cmdline.some((a) => a.endsWith('password-check-child.js')) && p.cmdline.includes(SLOW_SERVICE),
          )?.pid),
        { timeout: 1_500, interval: 20 },
      )
      .toBeDefined();
    // pam_exec runs its helper in a new session, so it is outside the child's process group.
    let helper: number | undefined;
    await expect
      .poll(() => (helper = processes().find((p) => p.ppid === child && p.cmdline[0] === '/bin/sleep')?.pid), {
        timeout: 1_500,
        interval: 20,
      })
      .toBeDefined();

    const result = await pending;
    expect(result).toMatchObject({ ...UNAVAILABLE, message: expect.stringMatching(/2000 ms/) });
    expect(Date.now() - started).toBeLessThan(5_000);
    // Killed at once; under load the kernel may take a moment to take them out of /proc.
    await expect
      .poll(() => processes().filter((p) => p.pid === child || p.pid === helper), { timeout: 2_000, interval: 20 })
      .toEqual([]);
  });
});
