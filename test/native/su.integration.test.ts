/**
 * `su` with an offline PIN typed on a real pseudo-terminal (docs/pam.md "su and sudo").
 * A non-root user runs su to the enrolled user; su's PAM service is the Debian one with
 * pam_latchkey.so placed before common-auth, swapped in through a private mount namespace so
 * the machine's /etc/pam.d/su is never touched.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchDir, removeScratchDir } from './helpers/native-tools.js';
import { moduleLine, pins, removeUser, startAgentForUsers, type Agent } from './helpers/pam-env.js';
import type { TestUser } from './helpers/pam-env.js';
import { onTerminal, runOnPty } from './helpers/pty.js';

let agent: Agent;
let target: TestUser;
let caller: TestUser;
let uri: string;
let suService: string;

beforeAll(async () => {
  [agent, uri, target, caller] = await startAgentForUsers('s', 'r');
  suService = join(scratchDir(), 'pam.d-su');
  writeFileSync(
    suService,
    [
      'auth sufficient pam_rootok.so',
      moduleLine('sufficient', agent, 'timeout=2000'),
      '@include common-auth',
      '@include common-account',
      '@include common-session',
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  removeScratchDir();
  await agent?.stop();
  removeUser(target);
  removeUser(caller);
});

/** su as `caller`, on a terminal, with su's PAM service replaced in a private mount namespace. */
function su(exchanges: { waitFor: RegExp; type: string }[]) {
  const inner = `su -c 'id -un' ${target.name}`;
  const script = `mount --bind "$1" /etc/pam.d/su && exec runuser -u "$2" -- ${onTerminal(inner)
    .map((a) => `'${a.replace(/'/g, `'\\''`)}'`)
    .join(' ')}`;
  return runOnPty(['unshare', '-m', 'sh', '-c', script, 'sh', suService, caller.name], exchanges);
}

describe('su through a pseudo-terminal', () => {
  it('switches user with a valid offline PIN and shows how many are left', async () => {
    const [pin] = pins(uri, 0);
    const run = await su([{ waitFor: /Offline PIN: /, type: `${pin}\n` }]);
    expect(run.screen).toContain('Unlocked — 24 offline PINs left.');
    expect(run.screen).toContain(target.name); // `id -un` ran as the target user
    expect(run.screen).not.toContain('Password');
    expect(run.code).toBe(0);
  });

  it('refuses a wrong PIN and then takes the password', async () => {
    const run = await su([
      { waitFor: /Offline PIN: /, type: 'WRONG-PIN\n' },
      { waitFor: /Password: /, type: `${target.password}\n` },
    ]);
    expect(run.screen).toContain("That PIN didn't work");
    expect(run.screen.trim().split('\n').at(-1)?.trim()).toBe(target.name);
    expect(run.code).toBe(0);
  });

  it('a replayed PIN and a wrong password leave su failing', async () => {
    const [used] = pins(uri, 0);
    const run = await su([
      { waitFor: /Offline PIN: /, type: `${used}\n` },
      { waitFor: /Password: /, type: 'not-the-password\n' },
    ]);
    expect(run.screen).toContain("That PIN didn't work");
    expect(run.screen).toMatch(/Authentication failure/);
    expect(run.code).not.toBe(0);
  });
});
