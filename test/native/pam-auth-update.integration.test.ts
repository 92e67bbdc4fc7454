/**
 * The pam-auth-update profile (native/pam/pam-configs/latchkey, installed as
 * /usr/share/pam-configs/latchkey): Debian's own pam-auth-update enables it, the generated
 * common-auth puts pam_latchkey.so before pam_unix, and that generated stack — the module
 * found by name in the system's module directory, talking to the default socket
 * /run/latchkey/agent.sock — unlocks with a PIN and still with the password.
 * All of it happens in a private mount namespace over copies of /etc/pam.d,
 * /usr/share/pam-configs, /var/lib/pam and the module directory: the machine is not changed.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, pamModule, scratchDir, removeScratchDir } from './helpers/native-tools.js';
import { VERDICT, pins, removeUser, startAgentForUsers, type Agent } from './helpers/pam-env.js';
import type { TestUser } from './helpers/pam-env.js';

const PROFILE = join(ROOT, 'native/pam/pam-configs/latchkey');
let agent: Agent;
let user: TestUser;
let uri: string;
let work: string;
let moduleDir: string;
let steps: string[];

function systemModuleDir(): string {
  const candidates = [
    '/lib/x86_64-linux-gnu/security',
    '/usr/lib/x86_64-linux-gnu/security',
    '/lib/aarch64-linux-gnu/security',
    '/lib/security',
    '/usr/lib/security',
  ];
  const found = candidates.find((dir) => existsSync(join(dir, 'pam_unix.so')));
  if (!found) throw new Error('no PAM module directory with pam_unix.so');
  return realpathSync(found);
}

beforeAll(async () => {
  [agent, uri, user] = await startAgentForUsers('p');
  moduleDir = systemModuleDir();
  work = mkdtempSync(join(scratchDir(), 'pam-auth-update-'));
  cpSync('/etc/pam.d', join(work, 'pam.d'), { recursive: true });
  cpSync('/usr/share/pam-configs', join(work, 'pam-configs'), { recursive: true });
  cpSync('/var/lib/pam', join(work, 'var-lib-pam'), { recursive: true });
  cpSync(moduleDir, join(work, 'security'), { recursive: true });
  cpSync(PROFILE, join(work, 'pam-configs', 'latchkey'));
  cpSync(pamModule(), join(work, 'security', 'pam_latchkey.so'));
  writeFileSync(join(work, 'pam.d', 'latchkey-profile'), '@include common-auth\naccount required pam_permit.so\n');
  const [pin] = pins(uri, 0);
  const inputs = [`${pin}\n`, `\n${user.password}\n`, `${pin}\nwrong-password\n`];
  for (const [i, input] of inputs.entries()) writeFileSync(join(work, `in${i}`), input);
  const script = [
    'set -e; d=$1',
    'mount --bind "$d/pam.d" /etc/pam.d; mount --bind "$d/pam-configs" /usr/share/pam-configs; mount --bind "$d/var-lib-pam" /var/lib/pam',
    'mount --bind "$d/security" "$3"',
    'mount -t tmpfs tmpfs /run; mkdir -p /run/latchkey; mount --bind "$4" /run/latchkey',
    'DEBIAN_FRONTEND=noninteractive pam-auth-update --enable latchkey',
    'set +e',
    'for i in 0 1 2; do echo "=== step $i"; pamtester -v latchkey-profile "$2" authenticate < "$d/in$i" 2>&1; done',
    'exit 0',
  ].join('\n');
  const run = spawnSync(
    'unshare',
    ['-m', 'sh', '-c', script, 'sh', work, user.name, moduleDir, join(agent.dir, 'run')],
    { encoding: 'utf8', timeout: 60_000 },
  );
  if (run.status !== 0) throw new Error(`namespace run failed (${run.status}): ${run.stdout}${run.stderr}`);
  steps = run.stdout.split(/^=== step \d+\n/m).slice(1);
});

afterAll(async () => {
  removeScratchDir();
  await agent?.stop();
  removeUser(user);
});

describe('pam-auth-update profile', () => {
  it('is enabled by pam-auth-update: pam_latchkey.so first, jumping over pam_unix on success', () => {
    const auth = readFileSync(join(work, 'pam.d', 'common-auth'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('auth'));
    const ours = auth.findIndex((l) => /pam_latchkey\.so/.test(l));
    const unix = auth.findIndex((l) => /pam_unix\.so/.test(l));
    expect(ours).toBeGreaterThanOrEqual(0);
    expect(ours).toBeLessThan(unix);
    expect(auth[ours]).toMatch(/^auth\s+\[success=2 default=ignore\]\s+pam_latchkey\.so\s*$/);
    expect(auth[unix]).toMatch(/\[success=1 default=ignore\]/);
    expect(readFileSync('/etc/pam.d/common-auth', 'utf8')).not.toContain('pam_latchkey'); // the machine's own file is untouched
  });

  it('the generated stack unlocks with a PIN over the default socket', () => {
    expect(steps[0]).toContain('Unlocked — 24 offline PINs left.');
    expect(steps[0]).toContain(VERDICT.success);
  });

  it('an empty PIN answer goes on to the password, which unlocks', () => {
    expect(steps[1]).toMatch(/Offline PIN: [\s\S]*Password: /);
    expect(steps[1]).toContain(VERDICT.success);
  });

  it('a replayed PIN and a wrong password fail', () => {
    expect(steps[2]).toContain("That PIN didn't work");
    expect(steps[2]).toContain(VERDICT.authErr);
  });
});
