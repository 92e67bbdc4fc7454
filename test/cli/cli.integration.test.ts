/**
 * The `latchkey` command as administrators and scripts use it (docs/cli.md): real processes,
 * a real agent, exit codes as a contract.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../protocol/bytes.js';
import { parseEnrollmentUri } from '../../protocol/enrollment-uri.js';
import { BIN, makeTempDir, spawnAgent, writeAgentConfig, type AgentFiles } from '../helpers/agent-harness.js';
import type { AgentProcess } from '../helpers/agent-harness.js';
import { runCli } from '../helpers/run-cli.js';

let files: AgentFiles;
let agent: AgentProcess;

beforeAll(async () => {
  files = await writeAgentConfig(await makeTempDir(), { offlineMode: true, pinCount: 10 });
  agent = await spawnAgent(files);
});
afterAll(() => agent?.stop());

const sock = () => ['--socket', files.socket];

describe('help and usage', () => {
  it('prints help for the command and every subcommand, exit 0', async () => {
    const top = await runCli(['--help']);
    expect(top.code).toBe(0);
    for (const sub of ['agent', 'enroll', 'verify', 'status', 'reset', 'unenroll', 'pins', 'demo'])
      expect(top.stdout).toContain(sub);
    const verify = await runCli(['verify', '--help']);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/Exit status: 0 accepted, 1 rejected, 2 locked \(try later\), 3 unavailable/);
  });

  it('exits 64 with a message on a usage error', async () => {
    const unknown = await runCli(['verify', '--user', 'daemon', '--frobnicate']);
    expect(unknown.code).toBe(64);
    expect(unknown.stderr).toMatch(/unknown option '--frobnicate'/);
    const missing = await runCli(['verify']);
    expect(missing.code).toBe(64);
    expect(missing.stderr).toMatch(/required option '--user <name>' not specified/);
    const badTimeout = await runCli(['status', '--timeout', 'soon']);
    expect(badTimeout.code).toBe(64);
    expect(badTimeout.stderr).toMatch(/--timeout must be a whole number/);
    const badUser = await runCli(['status', '--user', '../etc']);
    expect(badUser.code).toBe(64);
  });
});

describe('enroll, pins, verify, status, reset', () => {
  it('walks a user through enrollment and unlocks with the exit codes scripts rely on', async () => {
    const enrolled = await runCli(['enroll', '--user', 'daemon', '--json', ...sock()]);
    expect(enrolled.code).toBe(0);
    const detail = JSON.parse(enrolled.stdout);
    expect(detail).toMatchObject({
      user: 'daemon',
      authenticatorId: 'phone',
      charset: 'alphanumeric',
      length: 8,
      pinCount: 10,
    });
    const pins = (await runCli(['pins'], { input: `${detail.uri}\n` })).stdout.trim().split('\n');
    expect(pins).toHaveLength(10);
    expect(pins[0]).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
    expect(
      (await runCli(['pins', '--uri', detail.uri, '--from', '3', '--count', '2'])).stdout.trim().split('\n'),
    ).toEqual(pins.slice(3, 5));

    const ok = await runCli(['verify', '--user', 'daemon', ...sock()], { input: `${pins[0]}\n` });
    expect(ok).toMatchObject({ code: 0, stdout: 'Unlocked — 9 offline PINs left.\n' });
    const replay = await runCli(['verify', '--user', 'daemon', ...sock()], { input: pins[0] });
    expect(replay.code).toBe(1);
    expect(replay.stdout).toMatch(/didn't work/);

    for (let n = 2; n <= 5; n++) await runCli(['verify', '--user', 'daemon', ...sock()], { input: `WRNG-000${n}` });
    const locked = await runCli(['verify', '--user', 'daemon', ...sock()], { input: pins[1] });
    expect(locked.code).toBe(2);
    expect(locked.stdout).toMatch(/^Too many attempts — try again in (1 minute|5\d seconds)\.\n$/); // a second or two may pass under load

    const status = JSON.parse((await runCli(['status', '--user', 'daemon', '--json', ...sock()])).stdout);
    expect(status).toMatchObject({
      user: 'daemon',
      offlineMode: true,
      locked: true,
      failures: 5,
      usable: true,
      remaining: 9,
      retryAfter: expect.any(Number),
    });
    const human = await runCli(['status', ...sock()]);
    expect(human.stdout).toMatch(/daemon: offline PINs enabled\n {2}phone: 9 of 10 left/);

    expect((await runCli(['reset', '--user', 'daemon', ...sock()])).code).toBe(0);
    expect((await runCli(['verify', '--user', 'daemon', ...sock()], { input: pins[1] })).code).toBe(0);
  });

  it('says "use your password" and exits 3 when the agent cannot be reached', async () => {
    const down = await runCli(['verify', '--user', 'daemon', '--socket', '/nonexistent/agent.sock'], {
      input: '1234-5678',
    });
    expect(down.code).toBe(3);
    expect(down.stdout).toBe('Offline PINs are unavailable right now — use your password.\n');
    expect(down.stderr).toMatch(/cannot reach the agent on \/nonexistent\/agent.sock: no agent socket there/);
    const status = await runCli(['status', '--user', 'daemon', '--socket', '/nonexistent/agent.sock']);
    expect(status.code).toBe(3);
  });

  it("a non-root user asking about someone else is refused with the agent's reason", async () => {
    const refused = await runCli(['reset', '--user', 'no-such-user-latchkey', ...sock()]);
    expect(refused.code).toBe(0); // root may reset anyone; a user without state is simply fine
    const unknown = await runCli(['enroll', '--user', 'no-such-user-latchkey', ...sock()]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/there is no user "no-such-user-latchkey" on this computer \(error: unknown-user\)/);
  });
});

describe('numeric PINs are RFC 4226 HOTP', () => {
  it("matches oathtool code for code, and oathtool's codes unlock", async () => {
    const numeric = await writeAgentConfig(await makeTempDir(), {
      offlineMode: true,
      pinCharset: 'numeric',
      pinLength: 8,
      pinCount: 10,
    });
    const numericAgent = await spawnAgent(numeric);
    try {
      const enrolled = await runCli(['enroll', '--user', 'daemon', '--socket', numeric.socket]);
      expect(enrolled.stdout).toMatch(/Any RFC 4226 HOTP app can import this otpauth:\/\/ URI/);
      const uri = /otpauth:\/\/\S+/.exec(enrolled.stdout)![0];
      const imported = parseEnrollmentUri(uri);
      const oath = execFileSync(
        'oathtool',
        ['--hotp', '--digits=8', '--counter=0', '--window=9', toHex(imported.seed)],
        { encoding: 'utf8' },
      )
        .trim()
        .split('\n');
      const ours = (await runCli(['pins', '--uri', uri])).stdout.trim().split('\n');
      expect(ours).toEqual(oath);
      expect(fromHex(toHex(imported.seed))).toEqual(imported.seed);
      const unlocked = await runCli(['verify', '--user', 'daemon', '--socket', numeric.socket], { input: oath[2] });
      expect(unlocked).toMatchObject({ code: 0, stdout: 'Unlocked — 7 offline PINs left.\n' });
    } finally {
      await numericAgent.stop();
    }
  });
});

describe('the agent refuses a config it cannot trust, and says why', () => {
  async function agentWith(content: string | object, mode = 0o600) {
    const dir = await makeTempDir();
    const file = `${dir}/agent.json`;
    await fs.writeFile(file, typeof content === 'string' ? content : JSON.stringify(content), { mode });
    await fs.chmod(file, mode);
    return {
      file,
      result: await runCli(['agent', '--config', file, '--socket', `${dir}/s.sock`, '--state-dir', `${dir}/state`], {
        timeoutMs: 10_000,
      }),
    };
  }

  it.each([
    [
      'a world-writable file',
      '{}',
      0o666,
      /refusing config file: .*agent.json has mode 0666: it must not be group- or world-writable/,
    ],
    ['an unknown policy key', { policy: { pinCountt: 25 } }, 0o600, /policy.pinCountt is not a known key/],
    [
      'an out-of-range count',
      { policy: { pinCount: 5 } },
      0o600,
      /policy.pinCount must be an integer from 10 to 100 \(got 5\)/,
    ],
    [
      'a numeric PIN that is too long',
      { policy: { pinCharset: 'numeric', pinLength: 9 } },
      0o600,
      /pinLength must be from 6 to 8 when pinCharset is "numeric"/,
    ],
    [
      'a string where a number belongs',
      { policy: { offlineAccessDays: '30' } },
      0o600,
      /policy.offlineAccessDays must be an integer from 7 to 90 \(got "30"\)/,
    ],
    [
      'a KDF below its range',
      { kdf: { memoryKiB: 4 } },
      0o600,
      /kdf.memoryKiB must be an integer from 8 to 1048576 \(got 4\)/,
    ],
    ['invalid JSON', '{"policy": ', 0o600, /is not valid JSON/],
    ['a relative socket path', { socket: 'agent.sock' }, 0o600, /socket must be an absolute path/],
  ])('%s', async (_name, content, mode, message) => {
    const { result } = await agentWith(content, mode);
    expect(result.code).toBe(78);
    expect(result.stderr).toMatch(message);
  });

  it('a config owned by another user', async () => {
    const dir = await makeTempDir();
    await fs.writeFile(`${dir}/agent.json`, '{}', { mode: 0o644 });
    await fs.chown(`${dir}/agent.json`, 65534, 65534);
    const result = await runCli([
      'agent',
      '--config',
      `${dir}/agent.json`,
      '--socket',
      `${dir}/s.sock`,
      '--state-dir',
      `${dir}/state`,
    ]);
    expect(result.code).toBe(78);
    expect(result.stderr).toMatch(/is owned by uid 65534; it must be owned by root/);
  });

  it('a config named on the command line that does not exist', async () => {
    const result = await runCli(['agent', '--config', '/nonexistent/agent.json']);
    expect(result).toMatchObject({
      code: 78,
      stderr: expect.stringMatching(/config file \/nonexistent\/agent.json does not exist/),
    });
  });
});

describe('a delay survives a restart under a clock set back two days (faketime)', () => {
  it('stays locked with the same time left', async () => {
    const dir = await writeAgentConfig(await makeTempDir(), { offlineMode: true, pinCount: 10 });
    let clockAgent = await spawnAgent(dir);
    try {
      const uri = JSON.parse(
        (await runCli(['enroll', '--user', 'daemon', '--json', '--socket', dir.socket])).stdout,
      ).uri;
      const pin = (await runCli(['pins', '--uri', uri, '--count', '1'])).stdout.trim();
      for (let n = 1; n <= 5; n++)
        await runCli(['verify', '--user', 'daemon', '--socket', dir.socket], { input: `WRNG-000${n}` });
      expect((await runCli(['verify', '--user', 'daemon', '--socket', dir.socket], { input: pin })).code).toBe(2);
      await clockAgent.stop();
      clockAgent = await spawnAgent(dir, {
        command: ['faketime', '-f', '-2d'],
        env: { FAKETIME_DONT_FAKE_MONOTONIC: '1' },
      });
      const locked = await runCli(['verify', '--user', 'daemon', '--socket', dir.socket], { input: pin });
      // Only the seconds that really passed count; two days of clock set back count for nothing.
      expect(locked.code).toBe(2);
      expect(locked.stdout).toMatch(/^Too many attempts — try again in (1 minute|[3-5]\d seconds)\.\n$/);
      const audit = (await fs.readFile(dir.auditLog, 'utf8'))
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      const shifted = Date.now() - Date.parse(audit.at(-1).time);
      expect(shifted).toBeGreaterThan(47 * 3600_000); // the agent really ran two days in the past
    } finally {
      await clockAgent.stop();
    }
  });
});

describe('the import URI in a file (enroll --uri-file, pins --uri-file)', () => {
  it('writes it to a new 0600 file instead of the terminal, and pins reads PINs from it that the agent accepts', async () => {
    const dir = await makeTempDir();
    const file = `${dir}/bin-phone.uri`;
    const enrolled = await runCli(['enroll', '--user', 'bin', '--uri-file', file, ...sock()]);
    expect(enrolled.code, enrolled.stderr).toBe(0);
    expect(enrolled.stdout).toContain(`The import URI is in ${file} (0600)`);
    expect(enrolled.stdout).not.toContain('latchkey://');
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    const pins = await runCli(['pins', '--uri-file', file, '--count', '2']);
    expect(pins.code, pins.stderr).toBe(0);
    const [first] = pins.stdout.trim().split('\n');
    expect((await runCli(['verify', '--user', 'bin', ...sock()], { input: `${first}\n` })).stdout).toBe(
      'Unlocked — 9 offline PINs left.\n',
    );
  });

  it('never writes over a file, refuses a file others can read, and takes --uri or --uri-file, not both', async () => {
    const dir = await makeTempDir();
    const taken = `${dir}/taken.uri`;
    await fs.writeFile(taken, 'something else\n', { mode: 0o600 });
    const over = await runCli(['enroll', '--user', 'bin', '--uri-file', taken, ...sock()]);
    expect(over.code).toBe(64);
    expect(over.stderr).toMatch(/^latchkey: --uri-file .* exists: an import URI is never written over another/);
    expect(await fs.readFile(taken, 'utf8')).toBe('something else\n');
    await fs.chmod(taken, 0o644);
    const readable = await runCli(['pins', '--uri-file', taken]);
    expect(readable.code).toBe(64);
    expect(readable.stderr).toMatch(/^latchkey: --uri-file: .* must not be group- or world-accessible/);
    expect((await runCli(['pins', '--uri', 'latchkey://x', '--uri-file', taken])).stderr).toContain(
      'give --uri or --uri-file, not both',
    );
    const missing = await runCli(['pins', '--uri-file', `${dir}/none.uri`]);
    expect(missing.code).toBe(64);
    expect(missing.stderr).toMatch(/^latchkey: --uri-file .*none\.uri/);
  });
});

describe('the demo cleans up after itself', () => {
  /** Starts the demo, reads its first line (the directory it uses), then ends it with `stop`. */
  async function interrupted(stop: (child: ChildProcess) => void): Promise<string> {
    const child = spawn(process.execPath, [BIN, 'demo'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const dir = await new Promise<string>((resolve) => {
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /a real agent on (\S+),/.exec(out);
        if (match) resolve(match[1]!);
      });
    });
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // its agent is up by now
    const exited = new Promise((resolve) => child.once('exit', resolve));
    stop(child);
    await exited;
    for (let i = 0; i < 50 && spawnSync('pgrep', ['-f', dir]).status === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    return dir;
  }

  it.each([
    ['SIGTERM', (child: ChildProcess) => child.kill('SIGTERM')],
    ['SIGINT', (child: ChildProcess) => child.kill('SIGINT')],
    ['its output closed (| head)', (child: ChildProcess) => child.stdout!.destroy()],
  ] as const)(
    'stops its agent and removes its directory when ended by %s',
    async (_how, stop) => {
      const dir = await interrupted(stop);
      expect(spawnSync('pgrep', ['-af', dir], { encoding: 'utf8' }).stdout).toBe('');
      await expect(fs.access(dir)).rejects.toThrow();
    },
    30_000,
  );
});
