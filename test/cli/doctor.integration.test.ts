/**
 * `latchkey doctor` (docs/cli.md "doctor") against real agents on temporary directories, PAM
 * configurations written to temporary directories (--pam-dir, --pam-module-dir, --syslog-socket:
 * the machine's /etc/pam.d is only read), and, for the verdict, pamtester through a real stack.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stateFileName } from '../../agent/state/user-state-store.js';
import { latchkeyCommand } from '../../cli/agent-process.js';
import { makeTempDir, spawnAgent, writeAgentConfig, type AgentProcess } from '../helpers/agent-harness.js';
import { runCli } from '../helpers/run-cli.js';
import { pamModule } from '../native/helpers/native-tools.js';
import { enroll, moduleLine, pamService, pamtester, pins, removePamServices } from '../native/helpers/pam-env.js';
import { startAgent, type Agent } from '../native/helpers/pam-env.js';

const USER = 'daemon'; // exists on every Debian system; its lock screen is only simulated
let agent: Agent;
let uri: string;
let dir: string;
const servers: net.Server[] = [];
const stops: (() => Promise<unknown>)[] = [];

interface Setup {
  readonly pamDir: string;
  readonly moduleDir: string;
  readonly syslog: string;
  readonly args: string[];
}

let setups = 0;
/** A PAM configuration (files of /etc/pam.d), a module directory and maybe a syslog socket, all temporary. */
async function pamSetup(
  files: Record<string, string>,
  options: { module?: 'installed' | 'missing' | 'writable'; syslog?: boolean } = {},
): Promise<Setup> {
  const root = path.join(dir, `setup-${++setups}`);
  const pamDir = path.join(root, 'pam.d');
  const moduleDir = path.join(root, 'security');
  await fs.mkdir(pamDir, { recursive: true });
  await fs.mkdir(moduleDir, { recursive: true });
  for (const [name, text] of Object.entries(files)) await fs.writeFile(path.join(pamDir, name), text);
  if ((options.module ?? 'installed') !== 'missing') {
    const file = path.join(moduleDir, 'pam_latchkey.so');
    copyFileSync(pamModule(), file);
    await fs.chmod(file, options.module === 'writable' ? 0o666 : 0o644);
  }
  const syslog = path.join(root, 'log');
  if (options.syslog ?? true) {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(syslog, resolve));
    servers.push(server);
  }
  return {
    pamDir,
    moduleDir,
    syslog,
    args: ['--pam-dir', pamDir, '--pam-module-dir', moduleDir, '--syslog-socket', syslog],
  };
}

const debianStacks = (socket: string, options = '') => ({
  'common-auth': `auth [success=2 default=ignore] pam_latchkey.so socket=${socket}${options}\nauth [success=1 default=ignore] pam_unix.so nullok\nauth requisite pam_deny.so\nauth required pam_permit.so\n`,
  login: '@include common-auth\naccount required pam_unix.so\n',
  sudo: '@include common-auth\n',
  i3lock: 'auth include login\n',
  lightdm: 'auth required pam_unix.so\n',
});

function doctor(args: string[]) {
  return runCli(['doctor', ...args]);
}

beforeAll(async () => {
  dir = await makeTempDir('latchkey-doctor-');
  agent = await startAgent({ policy: { pinCount: 10 } });
  stops.push(() => agent.stop());
  uri = enroll(agent, USER);
});

afterAll(async () => {
  removePamServices();
  for (const server of servers) server.close();
  for (const stop of stops.reverse()) await stop();
});

describe('latchkey doctor: everything in place', () => {
  it('shows ✓ for each part, names where the prompt appears, and exits 0; the socket comes from the stack line', async () => {
    const setup = await pamSetup(debianStacks(agent.socket));
    const run = await doctor(['--user', USER, ...setup.args]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const out = run.stdout;
    expect(out).toContain(
      `✓ the agent answers on ${agent.socket} and runs as root (uid 0), as the PAM module requires`,
    );
    expect(out).toContain(`✓ pam_latchkey.so is installed: ${setup.moduleDir}/pam_latchkey.so`);
    expect(out).toContain(
      '✓ PAM stacks that reach pam_latchkey.so: common-auth, login (through common-auth), sudo (through common-auth), i3lock (through login → common-auth)',
    );
    expect(out).toContain('• no PIN prompt at: lightdm');
    expect(out).toContain(`✓ ${setup.syslog} is there`);
    expect(out).toContain('✓ keystore: sealed files only the agent reads (file); the sealing key is readable');
    expect(out).toMatch(/✓ offline PINs are on \(policy from \/tmp\/latchkey-pam-[^/]+\/agent\.json\)/);
    expect(out).toContain('• not enrolled with a Control Center');
    expect(out).toMatch(/✓ phone: 10 of 10 offline PINs left, usable until \d{4}-\d\d-\d\d/);
    expect(out).toContain('• Bluetooth unlock is off');
    expect(out).not.toContain('✗');
    expect(out).toContain(`A PIN prompt appears for ${USER} at: common-auth, login, sudo, i3lock.`);

    const json = JSON.parse((await doctor(['--user', USER, '--json', ...setup.args])).stdout);
    expect(json).toMatchObject({ user: USER, pinPrompt: true, promptAt: ['common-auth', 'login', 'sudo', 'i3lock'] });
    expect(json.checks.map((check: { id: string }) => check.id)).toEqual(
      expect.arrayContaining(['agent', 'pam-module', 'pam-stacks', 'syslog', 'keystore', 'offline-mode', 'pins']),
    );
  });

  it('its verdict is what pamtester sees through a real stack: a prompt for a user with PINs, none for one without', async () => {
    const service = pamService('doctor', [moduleLine('required', agent)]);
    const setup = await pamSetup({});
    const args = ['--pam-dir', '/etc/pam.d', '--socket', agent.socket, '--syslog-socket', setup.syslog];
    const yes = await doctor(['--user', USER, '--json', ...args]);
    expect(yes.code).toBe(0);
    expect(JSON.parse(yes.stdout).promptAt).toContain(service);
    expect(pamtester(service, USER, '\n').output).toContain('Offline PIN: ');

    const no = await doctor(['--user', 'root', ...args]);
    expect(no.code).toBe(1);
    expect(no.stdout).toContain(
      '✗ root has no offline PINs on this computer\n    fix: latchkey enroll --user root, then import what it prints on the phone',
    );
    expect(pamtester(service, 'root', '\n').output).not.toContain('Offline PIN: ');
  });
});

describe('latchkey doctor: each ✗ with its fix, exit 1', () => {
  it("the newcomer's case: the pam-auth-update profile is on, the module is not installed, and there is no /dev/log", async () => {
    const setup = await pamSetup(debianStacks(agent.socket), { module: 'missing', syslog: false });
    const run = await doctor(['--user', USER, ...setup.args]);
    expect(run.code).toBe(1);
    const file = `${setup.moduleDir}/pam_latchkey.so`;
    expect(run.stdout).toContain(
      `✗ ${file} does not exist, but common-auth names it: libpam cannot load it and goes on without a PIN prompt, and with no ${setup.syslog} nothing logs why\n    fix: install it: install -o root -m 0644 build/Release/pam_latchkey.so ${file}`,
    );
    expect(run.stdout).toContain(
      `✗ no ${setup.syslog}: the PAM module's messages go nowhere\n    fix: install a syslog daemon`,
    );
    expect(run.stdout).toContain(`No PIN prompt for ${USER}: ${file} does not exist, but common-auth names it`);
  });

  it('no stack names the module', async () => {
    const setup = await pamSetup({
      'common-auth': 'auth [success=1 default=ignore] pam_unix.so nullok\n',
      login: '@include common-auth\n',
    });
    const run = await doctor(['--user', USER, '--socket', agent.socket, ...setup.args]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      `✗ no PAM stack in ${setup.pamDir} names pam_latchkey.so, so no login or lock screen asks for a PIN\n    fix: install -m 0644 native/pam/pam-configs/latchkey /usr/share/pam-configs/latchkey && pam-auth-update --enable latchkey`,
    );
  });

  it('a module file others may write, and an include that does not exist', async () => {
    const setup = await pamSetup(
      { ...debianStacks(agent.socket), sudo: '@include common-nothing\n' },
      { module: 'writable' },
    );
    const run = await doctor(['--user', USER, ...setup.args]);
    expect(run.code).toBe(1);
    const file = `${setup.moduleDir}/pam_latchkey.so`;
    expect(run.stdout).toMatch(
      new RegExp(
        `✗ ${file}: has mode 0666: it must not be group- or world-writable.*\\n    fix: chown root:root ${file} && chmod 0644 ${file}`,
      ),
    );
    expect(run.stdout).toContain(`✗ sudo includes common-nothing, which is not in ${setup.pamDir}`);
  });

  it('no agent on the socket', async () => {
    const setup = await pamSetup(debianStacks(path.join(dir, 'nothing.sock')));
    const run = await doctor(['--user', USER, ...setup.args]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      `✗ the agent does not answer on ${dir}/nothing.sock: no agent socket there\n    fix: start it: systemctl start latchkey-agent`,
    );
  });

  it('an agent the PAM module does not believe (agent_uid)', async () => {
    const setup = await pamSetup(debianStacks(agent.socket, ' agent_uid=4242'));
    const run = await doctor(['--user', USER, ...setup.args]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      `✗ the agent on ${agent.socket} runs as root (uid 0), but the PAM module believes only uid 4242 (agent_uid=): it ignores this agent\n    fix: run the agent as root`,
    );
  });

  it('a user this computer does not have', async () => {
    const setup = await pamSetup(debianStacks(agent.socket));
    const name = `nobody-here-${process.pid}`;
    const run = await doctor(['--user', name, ...setup.args]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`✗ there is no user ${name} on this computer\n    fix: name one with --user`);
  });

  it('a lockout, then a pool used up', async () => {
    const setup = await pamSetup(debianStacks(agent.socket));
    const verify = (pin: string) => runCli(['verify', '--user', USER, '--socket', agent.socket], { input: `${pin}\n` });
    for (let n = 1; n <= 5; n++) await verify(`WRNG-000${n}`);
    const locked = await doctor(['--user', USER, ...setup.args]);
    expect(locked.code).toBe(1);
    expect(locked.stdout).toMatch(
      /✗ offline PINs are locked for \d+ more seconds after 5 failed attempts\n {4}fix: wait, or latchkey reset --user daemon \(root\)/,
    );

    expect((await runCli(['reset', '--user', USER, '--socket', agent.socket])).code).toBe(0);
    for (const pin of pins(uri, 0, 10)) expect((await verify(pin)).code).toBe(0);
    const usedUp = await doctor(['--user', USER, ...setup.args]);
    expect(usedUp.code).toBe(1);
    expect(usedUp.stdout).toContain(
      `✗ phone: all 10 offline PINs are used\n    fix: latchkey enroll --user ${USER} for a new pool`,
    );
  });
});

describe("latchkey doctor: the agent's setup", () => {
  async function agentWith(
    policy: Record<string, unknown>,
    extra: Record<string, unknown> = {},
  ): Promise<{ files: Awaited<ReturnType<typeof writeAgentConfig>>; process: AgentProcess }> {
    const files = await writeAgentConfig(await makeTempDir(), policy, extra);
    const process = await spawnAgent(files);
    stops.push(() => process.stop());
    return { files, process };
  }

  it('Offline Mode off in the config file, then a state journal the agent cannot read', async () => {
    const { files } = await agentWith({ offlineMode: false });
    const setup = await pamSetup(debianStacks(files.socket));
    const off = await doctor(['--user', USER, ...setup.args]);
    expect(off.code).toBe(1);
    expect(off.stdout).toContain(
      `✗ offline PINs are off (policy from ${files.configFile}): the lock screen asks for no PIN\n    fix: set "policy": {"offlineMode": true} in ${files.configFile} and restart the agent`,
    );

    await fs.writeFile(path.join(files.stateDir, 'users', stateFileName(USER)), 'not a journal\n', { mode: 0o600 });
    const unreadable = await doctor(['--user', USER, ...setup.args]);
    expect(unreadable.code).toBe(1);
    expect(unreadable.stdout).toMatch(
      /✗ the agent cannot use daemon's offline PINs: .*\n {4}fix: latchkey reset --user daemon --discard-state/,
    );
  });

  it('a keystore whose sealing key cannot be read', async () => {
    const base = await makeTempDir();
    await fs.writeFile(path.join(base, 'a-file'), '');
    const { files } = await agentWith(
      { offlineMode: true },
      { keystore: { backend: 'file', directory: path.join(base, 'a-file', 'keystore') } },
    );
    const setup = await pamSetup(debianStacks(files.socket));
    const run = await doctor(['--user', USER, ...setup.args]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      "✗ keystore: sealed files only the agent reads (file); the sealing key cannot be read now\n    fix: read the agent's log (keystore.unavailable)",
    );
  });

  it("Bluetooth: a serial adapter that is not there, and one that is (a virtual controller's pseudo-terminal)", async () => {
    const missing = await agentWith(
      { offlineMode: true },
      { ble: { enabled: true, transport: `uart:${dir}/no-such-tty` } },
    );
    const setupMissing = await pamSetup(debianStacks(missing.files.socket));
    const bad = await doctor(['--user', USER, ...setupMissing.args]);
    expect(bad.stdout).toContain(
      `✗ the Bluetooth adapter uart:${dir}/no-such-tty (ble.transport): the serial port ${dir}/no-such-tty does not exist`,
    );
    expect(bad.stdout).toContain(
      `• no phone paired over Bluetooth for ${USER}\n    fix: latchkey ble pair --user ${USER} (root)`,
    );

    const port = await startVirtualController(path.join(dir, 'vc'));
    const present = await agentWith({ offlineMode: true }, { ble: { enabled: true, transport: `uart:${port}` } });
    const setupPresent = await pamSetup(debianStacks(present.files.socket));
    const good = await doctor(['--user', USER, ...setupPresent.args]);
    expect(good.stdout).toContain(`✓ the Bluetooth adapter uart:${port} is usable`);
  });
});

/** `latchkey ble virtual-controller`; resolves with the workstation port's pseudo-terminal. */
async function startVirtualController(directory: string): Promise<string> {
  const run = latchkeyCommand(['ble', 'virtual-controller', '--dir', directory]);
  const child: ChildProcess = spawn(run.command, run.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  stops.push(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the virtual controller printed no ports: ${out}`)), 20_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /^workstation (\S+)$/m.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`the virtual controller exited with ${code}: ${out}`)));
  });
}
