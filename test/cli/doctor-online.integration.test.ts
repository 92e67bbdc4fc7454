/**
 * `latchkey doctor` on a workstation enrolled with a real Control Center: the policy's origin and
 * age, the Control Center answering, then not (docs/cli.md "doctor").
 */
import { promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, spawnAgent, writeAgentConfig, type AgentFiles } from '../helpers/agent-harness.js';
import type { AgentProcess } from '../helpers/agent-harness.js';
import { ControlCenterProcess, eventually, freePort } from '../helpers/online-stack.js';
import { runCli } from '../helpers/run-cli.js';
import { pamModule } from '../native/helpers/native-tools.js';

const USER = 'daemon';
let cc: ControlCenterProcess;
let files: AgentFiles;
let agent: AgentProcess;
let args: string[];
let syslog: net.Server;

beforeAll(async () => {
  const dir = await makeTempDir('latchkey-doctor-online-');
  cc = new ControlCenterProcess(path.join(dir, 'cc', 'cc.db'), await freePort());
  await cc.start();
  expect((await cc.admin(['settings', 'set', 'offlineMode=true'])).code).toBe(0);
  const created = await cc.admin(['install-tokens', 'create', '--note', 'doctor']);
  const installToken = /lk_install_[A-Za-z0-9_-]{43}/.exec(created.stdout)![0];
  files = await writeAgentConfig(
    path.join(dir),
    {},
    { controlCenter: { url: cc.url, installToken, name: `doctor-${process.pid}` } },
  );
  agent = await spawnAgent(files);

  const pamDir = path.join(dir, 'pam.d');
  const moduleDir = path.join(dir, 'security');
  await fs.mkdir(pamDir);
  await fs.mkdir(moduleDir);
  await fs.writeFile(
    path.join(pamDir, 'common-auth'),
    `auth [success=1 default=ignore] pam_latchkey.so socket=${files.socket}\nauth required pam_unix.so\n`,
  );
  await fs.copyFile(pamModule(), path.join(moduleDir, 'pam_latchkey.so'));
  await fs.chmod(path.join(moduleDir, 'pam_latchkey.so'), 0o644);
  syslog = net.createServer();
  await new Promise<void>((resolve) => syslog.listen(path.join(dir, 'log'), resolve));
  args = ['--user', USER, '--pam-dir', pamDir, '--pam-module-dir', moduleDir, '--syslog-socket', path.join(dir, 'log')];
});

afterAll(async () => {
  syslog?.close();
  await agent?.stop();
  await cc?.stop();
});

describe('latchkey doctor on an enrolled workstation', () => {
  it("says the policy is the Control Center's, with its revision and age, and that the Control Center answers", async () => {
    // The agent enrolls in the background and then fetches its first signed policy.
    const out = await eventually('the signed policy', async () => {
      const run = await runCli(['doctor', ...args]);
      return /policy signed by the Control Center/.test(run.stdout) ? run.stdout : undefined;
    });
    expect(out).toMatch(
      /✓ offline PINs are on \(policy signed by the Control Center, revision \d+, (less than a minute|\d+ min) old\)/,
    );
    expect(out).toContain(`✓ the Control Center ${cc.url} answers`);
    // Enrolled, but no phone paired yet: the first online sign-in brings the PINs (R2).
    expect(out).toContain(
      `✗ ${USER} has no offline PINs on this computer\n    fix: pair the phone (latchkey pair --user ${USER}) and sign in online once`,
    );
  });

  it('says so when the Control Center stops answering', async () => {
    await cc.stop();
    const out = await eventually(
      'the Control Center to count as unreachable',
      async () => {
        const run = await runCli(['doctor', ...args]);
        return run.stdout.includes('does not answer') ? run.stdout : undefined;
      },
      60_000,
    );
    expect(out).toContain(
      `✗ the Control Center ${cc.url} does not answer (nothing listens there): no online sign-in and no new PINs until it does\n    fix: check the network and that the Control Center runs`,
    );
    // The cached signed policy still applies offline.
    expect(out).toMatch(/✓ offline PINs are on \(policy signed by the Control Center/);
  }, 90_000);
});
