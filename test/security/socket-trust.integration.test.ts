/**
 * docs/security.md "Who answers on the socket", "Secrets in files": the attacks of issue 9
 * items 5 and 6, run for real. A local user who owns the socket's directory could put a listener
 * there that answers "accepted"; the agent refuses such a directory, and the PAM module believes
 * only a listener the kernel says runs as the agent's uid. A config file holding the install
 * token is refused when others can read it, and the socket's directory gets its documented mode
 * whatever the umask.
 */
import { spawn, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, canConnect, makeTempDir, writeAgentConfig } from '../helpers/agent-harness.js';
import { NOBODY, makeScriptDir, runScriptAs, startScriptAs, type RunningScript } from '../helpers/other-user.js';
import { VERDICT, createUser, pamService, pamtester, removePamServicesAndUsers } from '../native/helpers/pam-env.js';
import type { TestUser } from '../native/helpers/pam-env.js';
import { pamModule } from '../native/helpers/native-tools.js';

/** Answers every request as a real agent's best news would look: a PIN prompt, then "accepted". */
const ROGUE_LISTENER = `
import fs from 'node:fs';
import net from 'node:net';
import { decodeRequestBody, encodeReply } from './protocol/ipc-messages.js';
const socketPath = process.argv[2];
const server = net.createServer((socket) => {
  let data = Buffer.alloc(0);
  socket.on('error', () => {});
  socket.on('data', (chunk) => {
    data = Buffer.concat([data, chunk]);
    while (data.length >= 8 && data.length >= 8 + data.readUInt32BE(4)) {
      const length = data.readUInt32BE(4);
      const request = decodeRequestBody(data.subarray(8, 8 + length));
      data = data.subarray(8 + length);
      process.stdout.write('asked ' + request.op + '\\n');
      socket.write(encodeReply(request.op === 'status'
        ? { requestId: request.requestId, status: 'ok', offlineMode: true, usable: true, remaining: 9, locked: false, low: false, online: false, ble: false, message: 'ready' }
        : { requestId: request.requestId, status: 'accepted', remaining: 9, message: 'Unlocked by the rogue listener.' }));
    }
  });
});
server.listen(socketPath, () => { fs.chmodSync(socketPath, 0o666); process.stdout.write('listening\\n'); });
process.on('SIGTERM', () => process.exit(0));
`;

/** One status about the caller's own user, the way a screen locker would ask. */
const STATUS_CLIENT = `
import net from 'node:net';
import { decodeReplyBody, encodeRequest } from './protocol/ipc-messages.js';
const [socketPath, user] = process.argv.slice(2);
const socket = net.connect(socketPath, () => socket.write(encodeRequest({ op: 'status', requestId: 1, user })));
let data = Buffer.alloc(0);
socket.on('data', (chunk) => {
  data = Buffer.concat([data, chunk]);
  if (data.length >= 8 && data.length >= 8 + data.readUInt32BE(4)) {
    process.stdout.write(JSON.stringify({ status: decodeReplyBody(data.subarray(8)).status }));
    socket.destroy();
  }
});
socket.on('error', (error) => process.stdout.write(JSON.stringify({ error: error.code })));
`;

let scripts: string;
let user: TestUser;

beforeAll(async () => {
  scripts = await makeScriptDir({ rogue: ROGUE_LISTENER, status: STATUS_CLIENT });
  user = createUser('sock');
});
afterAll(() => {
  removePamServicesAndUsers(user);
});

/** `latchkey agent` with a socket path; resolves when it exits (these refusals exit at once). */
function runAgent(configFile: string, socket: string): { status: number | null; stderr: string } {
  const run = spawnSync(process.execPath, [BIN, 'agent', '--config', configFile, '--socket', socket], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: run.status, stderr: run.stderr };
}

describe('the agent refuses a socket directory someone else could swap', () => {
  it('a directory a local user owns: exit 78, naming the owner and the fix; no socket appears', async () => {
    const files = await writeAgentConfig(await makeTempDir(), { offlineMode: true });
    const dir = await makeTempDir('latchkey-usersock-');
    await fs.chmod(dir, 0o755);
    await fs.chown(dir, NOBODY, NOBODY);
    const run = runAgent(files.configFile, path.join(dir, 'agent.sock'));
    expect(run.status).toBe(78);
    expect(run.stderr).toMatch(/^latchkey: refusing to start: .* is owned by uid 65534, .*chown root/m);
    await expect(fs.access(path.join(dir, 'agent.sock'))).rejects.toThrow();
  });

  it('a directory under one a local user owns, and a world-writable directory even with the sticky bit', async () => {
    const files = await writeAgentConfig(await makeTempDir(), { offlineMode: true });
    const owned = await makeTempDir('latchkey-usersock-');
    await fs.chmod(owned, 0o755);
    await fs.chown(owned, NOBODY, NOBODY);
    await fs.mkdir(path.join(owned, 'run'), { mode: 0o755 }); // root's, but inside nobody's
    expect(runAgent(files.configFile, path.join(owned, 'run', 'agent.sock'))).toMatchObject({
      status: 78,
      stderr: expect.stringContaining('owned by uid 65534'),
    });
    const shared = await makeTempDir('latchkey-sticky-');
    await fs.chmod(shared, 0o1777);
    expect(runAgent(files.configFile, path.join(shared, 'agent.sock'))).toMatchObject({
      status: 78,
      stderr: expect.stringMatching(/has mode 1777: others could replace .*chmod go-w/),
    });
  });
});

describe('the PAM module believes only the agent', () => {
  let rogue: RunningScript;
  let rogueSocket: string;

  beforeAll(async () => {
    const dir = await makeTempDir('latchkey-rogue-');
    await fs.chmod(dir, 0o755);
    await fs.chown(dir, NOBODY, NOBODY);
    rogueSocket = path.join(dir, 'agent.sock');
    rogue = startScriptAs(NOBODY, scripts, 'rogue', [rogueSocket]);
    await rogue.waitFor(/^listening$/);
  });
  afterAll(() => rogue?.stop());

  it('a listener run by a local user gets nothing: no PIN is sent, no "accepted" believed, the password still works', async () => {
    const stack = pamService('rogue', [
      `auth sufficient ${pamModule()} socket=${rogueSocket}`,
      'auth required pam_unix.so',
    ]);
    const withPin = pamtester(stack, user.name, 'K7QM-2XHD\n');
    expect(withPin.output).not.toContain('Unlocked by the rogue listener.');
    expect(withPin.output).not.toContain(VERDICT.success);
    const withPassword = pamtester(stack, user.name, `${user.password}\n`);
    expect(withPassword.output).toContain(VERDICT.success);
    expect(withPassword.output).not.toContain('Unlocked by the rogue listener.');
    await new Promise((resolve) => setTimeout(resolve, 300)); // the listener's stdout, had it been asked
    expect(rogue.output()).not.toMatch(/asked/); // refused before the first byte was sent
  });

  it('agent_uid= names whom to believe (here, the same listener is then trusted)', async () => {
    const alone = pamService('rogue-trusted', [
      `auth required ${pamModule()} socket=${rogueSocket} agent_uid=${NOBODY}`,
    ]);
    const run = pamtester(alone, user.name, 'K7QM-2XHD\n');
    expect(run.output).toContain('Unlocked by the rogue listener.');
    expect(run.output).toContain(VERDICT.success);
    await rogue.waitFor(/^asked verify$/);
    expect(rogue.output()).toMatch(/asked status\nasked verify/);
  });
});

describe('secrets in files and the umask', () => {
  it('refuses a config file others can read when it holds the install token (exit 78, naming chmod 600)', async () => {
    const dir = await makeTempDir();
    const files = await writeAgentConfig(
      dir,
      { offlineMode: true },
      { controlCenter: { url: 'http://127.0.0.1:9', installToken: `lk_install_${'A'.repeat(43)}` } },
    );
    await fs.chmod(files.configFile, 0o644);
    const run = runAgent(files.configFile, files.socket);
    expect(run.status).toBe(78);
    expect(run.stderr).toContain(
      `it holds controlCenter.installToken and other users can read it (mode 0644); run chmod 600 ${files.configFile}`,
    );
    expect(run.stderr).not.toContain('A'.repeat(43));
  });

  it('creates the socket directory 0755 and the socket 0666 under umask 077, so a screen locker running as the user connects', async () => {
    const dir = await makeTempDir();
    await fs.chmod(dir, 0o755);
    const files = await writeAgentConfig(dir, { offlineMode: true });
    const socket = path.join(dir, 'run', 'latchkey', 'agent.sock');
    const child = spawn(
      'sh',
      [
        '-c',
        'umask 077; exec "$@"',
        'sh',
        process.execPath,
        BIN,
        'agent',
        '--config',
        files.configFile,
        '--socket',
        socket,
      ],
      { stdio: 'ignore' },
    );
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      const deadline = Date.now() + 20_000;
      while (!(await canConnect(socket))) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error('the agent did not start');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect((await fs.stat(path.join(dir, 'run'))).mode & 0o7777).toBe(0o755);
      expect((await fs.stat(path.dirname(socket))).mode & 0o7777).toBe(0o755);
      expect((await fs.stat(socket)).mode & 0o777).toBe(0o666);
      expect(JSON.parse(await runScriptAs(NOBODY, scripts, 'status', [socket, 'nobody']))).toEqual({ status: 'ok' });
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});
