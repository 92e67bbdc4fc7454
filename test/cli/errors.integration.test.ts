/**
 * What a newcomer sees when something is wrong (issue 10 items 12, 13): one `latchkey:` line that
 * names the file or flag and what to do, with docs/cli.md's exit codes — never Node's or
 * commander's raw text. Real processes, real files.
 */
import { spawn, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { latchkeyCommand } from '../../cli/agent-process.js';
import { makeTempDir } from '../helpers/agent-harness.js';
import { freePort } from '../helpers/online-stack.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import { makeSelfSignedCertificate } from '../helpers/tls.js';

let dir: string;
let aFile: string;

beforeAll(async () => {
  dir = await makeTempDir('latchkey-errors-');
  aFile = path.join(dir, 'a-file');
  await fs.writeFile(aFile, 'not a directory\n');
});

/** Exactly one line on stderr, starting `latchkey: `, and the exit code. */
function expectOneLine(run: CliResult, code: number, pattern: RegExp): void {
  expect(run.stderr).toMatch(/^latchkey: [^\n]+\n$/);
  expect(run.stderr).toMatch(pattern);
  expect(run.code).toBe(code);
}

describe("usage errors: one line naming the command's --help, exit 64", () => {
  it.each([
    [['status', '--frobnicate'], /^latchkey: unknown option '--frobnicate'; see latchkey status --help\n$/],
    [['status', '--user'], /^latchkey: option '--user <name>' argument missing; see latchkey status --help\n$/],
    [['verify'], /^latchkey: required option '--user <name>' not specified; see latchkey verify --help\n$/],
    [['frobnicate'], /^latchkey: unknown command 'frobnicate'; see latchkey --help\n$/],
    [
      ['status', 'alice'],
      /^latchkey: too many arguments for 'status'\. Expected 0 arguments but got 1; see latchkey status --help\n$/,
    ],
    [
      ['status', '--timeout', 'soon'],
      /^latchkey: --timeout must be a whole number from 100 to 600000 \(got 'soon'\); see latchkey status --help\n$/,
    ],
    [
      ['phone', 'ble', 'pair', '--wait', '0'],
      /^latchkey: --wait must be from 1 to 600 \(got '0'\); see latchkey phone ble pair --help\n$/,
    ],
    [
      ['agent', '--state-dir', 'relative/dir'],
      /^latchkey: --state-dir must be an absolute path \(starting with \/\) \(got 'relative\/dir'\); see latchkey agent --help\n$/,
    ],
    [['workstation', 'enroll', '--url', 'not-a-url'], /--url must be the Control Center's URL/],
    [['admin', '--url', 'ftp://cc.example', 'settings', 'show'], /--url must be an http:\/\/ or https:\/\/ URL/],
  ])('latchkey %j', async (args, pattern) => {
    expectOneLine(await runCli(args), 64, pattern);
  });
});

describe('the agent: paths it cannot use are named with the setting to change, exit 78', () => {
  it('a state directory under a file (once a raw ENOTDIR, exit 1)', async () => {
    const run = await runCli(['agent', '--state-dir', `${aFile}/state`, '--socket', path.join(dir, 'a.sock')]);
    expectOneLine(
      run,
      78,
      new RegExp(
        `^latchkey: refusing to start: cannot create ${aFile}/state: ${aFile} is a file, not a directory \\(choose another with --state-dir\\)\\n$`,
      ),
    );
  });

  it('a socket whose directory is a file', async () => {
    const run = await runCli(['agent', '--state-dir', path.join(dir, 'state-1'), '--socket', `${aFile}/agent.sock`]);
    expectOneLine(run, 78, new RegExp(`${aFile} exists and is not a directory \\(choose another with --socket\\)`));
  });

  it("a state directory where nothing can be created answers at once (Node's recursive mkdir loops forever under /proc)", async () => {
    const run = await runCli(
      ['agent', '--state-dir', `/proc/latchkey-${process.pid}/state`, '--socket', path.join(dir, 'b.sock')],
      { timeoutMs: 20_000 },
    );
    expectOneLine(run, 78, /the file system does not allow creating \/proc\/latchkey-\d+ .*--state-dir/);
  });

  it("a config file that is not JSON: where, without V8's quoted source and its line breaks", async () => {
    const config = path.join(dir, 'broken.json');
    await fs.writeFile(config, '{\n  "policy": { "offlineMode": true },\n}\n', { mode: 0o600 });
    expectOneLine(
      await runCli(['agent', '--config', config]),
      78,
      new RegExp(
        `^latchkey: ${config} is not valid JSON \\(expected double-quoted property name at line 3, column 1\\): fix it`,
      ),
    );
    const yaml = path.join(dir, 'yaml.json');
    await fs.writeFile(yaml, 'policy:\n  offlineMode: true\n', { mode: 0o600 });
    expectOneLine(await runCli(['agent', '--config', yaml]), 78, /is not valid JSON \(unexpected token 'p'\)/);
    await fs.writeFile(path.join(dir, 'empty.json'), '', { mode: 0o600 });
    expectOneLine(
      await runCli(['agent', '--config', path.join(dir, 'empty.json')]),
      78,
      /is not valid JSON \(the file is empty\)/,
    );
  });

  it('a config file that does not exist says what to do', async () => {
    expectOneLine(
      await runCli(['agent', '--config', path.join(dir, 'none.json')]),
      78,
      /does not exist: write one \(docs\/configuration\.md\), or leave out --config/,
    );
  });
});

/** `latchkey control-center …` until it listens (then stopped by its pid), or its exit. */
async function controlCenter(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string; listened: boolean }> {
  const run = latchkeyCommand(['control-center', ...args]);
  const child = spawn(run.command, run.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let listened = false;
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (!listened && stderr.includes('control-center.listening')) {
      listened = true;
      child.kill('SIGTERM');
    }
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  return { code, stdout, stderr, listened };
}

describe('the Control Center', () => {
  it("creates the database's missing directories, 0700, on a fresh machine (once a raw ENOENT)", async () => {
    const db = path.join(dir, 'var-lib', 'latchkey-cc', 'cc.db');
    const run = await controlCenter(['--db', db, '--listen', `127.0.0.1:${await freePort()}`]);
    expect(run.listened).toBe(true);
    expect(run.stdout).toMatch(/first admin token/);
    for (const created of [path.dirname(db), path.dirname(path.dirname(db))])
      expect((await fs.stat(created)).mode & 0o777).toBe(0o700);
    const token = await runCli([
      'control-center',
      '--db',
      path.join(dir, 'fresh', 'cc.db'),
      '--create-admin-token',
      'ops',
    ]);
    expect(token.code).toBe(0);
  });

  it('a --db that is a directory, or under a file', async () => {
    expectOneLine(
      await runCli(['control-center', '--db', dir, '--listen', '127.0.0.1:0']),
      1,
      new RegExp(`${dir} is a directory, not a file \\(check --db\\)`),
    );
    expectOneLine(
      await runCli(['control-center', '--db', `${aFile}/cc.db`, '--listen', '127.0.0.1:0']),
      1,
      new RegExp(`${aFile} exists and is not a directory \\(check --db\\)`),
    );
  });

  it('a port another process listens on', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const run = await controlCenter(['--db', path.join(dir, 'port', 'cc.db'), '--listen', `127.0.0.1:${port}`]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(
        new RegExp(
          `^latchkey: the Control Center could not start \\(listen-failed\\): another process already listens on 127\\.0\\.0\\.1:${port}: stop it, or choose another port \\(check --listen\\)\\n$`,
          'm',
        ),
      );
    } finally {
      server.close();
    }
  });

  it('TLS files that are missing, not PEM, or do not match', async () => {
    const db = ['--db', path.join(dir, 'tls', 'cc.db'), '--listen', '127.0.0.1:0'];
    expectOneLine(
      await runCli(['control-center', ...db, '--tls-cert', path.join(dir, 'none.pem'), '--tls-key', aFile]),
      1,
      /^latchkey: --tls-cert: .*none\.pem does not exist\n$/,
    );
    expectOneLine(
      await runCli(['control-center', ...db, '--tls-cert', aFile, '--tls-key', aFile]),
      1,
      /--tls-cert .* is not a PEM certificate/,
    );
    const [cert, key, otherKey] = ['cert.pem', 'key.pem', 'other-key.pem'].map((name) => path.join(dir, name));
    const made = makeSelfSignedCertificate(cert!, key!, '/CN=127.0.0.1');
    expect(made.status).toBe(0);
    expect(
      spawnSync('openssl', ['genpkey', '-algorithm', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', otherKey!])
        .status,
    ).toBe(0);
    expectOneLine(
      await runCli(['control-center', ...db, '--tls-cert', cert!, '--tls-key', cert!]),
      1,
      /--tls-key .* is not an unencrypted PEM private key/,
    );
    expectOneLine(
      await runCli(['control-center', ...db, '--tls-cert', cert!, '--tls-key', otherKey!]),
      1,
      /--tls-key .*other-key\.pem is not the private key of the certificate in --tls-cert/,
    );
  });
});

describe('secrets with no terminal to ask on (issue 10 item 13)', () => {
  it('latchkey phone init </dev/null says there is no terminal, and names LATCHKEY_PHONE_PASSPHRASE and --passphrase-file', async () => {
    const run = await runCli(['phone', '--home', path.join(dir, 'phone'), 'init'], {
      env: { LATCHKEY_PHONE_PASSPHRASE: '' },
    });
    expectOneLine(
      run,
      64,
      /^latchkey: no vault passphrase on standard input, and no terminal to ask on: set LATCHKEY_PHONE_PASSPHRASE, or pass --passphrase-file FILE/,
    );
    await expect(fs.stat(path.join(dir, 'phone', 'vault.json'))).rejects.toThrow();
  });

  it.each([
    [
      ['verify', '--user', 'daemon', '--socket', '/nonexistent/agent.sock'],
      /no PIN on standard input, and no terminal to ask on: pipe one in/,
    ],
    [
      ['pins'],
      /no import URI on standard input, and no terminal to ask on: pipe it in \(latchkey enroll prints it\), or pass --uri/,
    ],
    [
      ['workstation', 'enroll', '--url', 'http://127.0.0.1:1', '--socket', '/nonexistent/agent.sock'],
      /no install token on standard input, and no terminal to ask on: .*--install-token/,
    ],
  ])('latchkey %j with nothing on stdin', async (args, pattern) => {
    expectOneLine(await runCli(args), 64, pattern);
  });
});

describe('other files and peers', () => {
  it('a phone home under a file, and a passphrase file that does not exist', async () => {
    expectOneLine(
      await runCli(['phone', '--home', `${aFile}/phone`, 'init'], {
        env: { LATCHKEY_PHONE_PASSPHRASE: 'a long enough passphrase' },
      }),
      4,
      /is a file, not a directory: choose another --home/,
    );
    expectOneLine(
      await runCli(['phone', '--home', path.join(dir, 'p2'), '--passphrase-file', path.join(dir, 'none'), 'init']),
      4,
      /Cannot read the passphrase file: .*none does not exist/,
    );
  });

  it('an agent that is not running, and a Control Center that does not answer, say what to check', async () => {
    expectOneLine(
      await runCli(['status', '--socket', path.join(dir, 'none.sock')]),
      3,
      /no agent socket there \(is the agent running\? start it with "latchkey agent", or name its socket with --socket\)/,
    );
    const port = await freePort();
    const admin = await runCli(['admin', '--url', `http://127.0.0.1:${port}`, 'settings', 'show'], {
      env: { LATCHKEY_ADMIN_TOKEN: 'lk_admin_x' },
    });
    expectOneLine(
      admin,
      1,
      new RegExp(
        `the Control Center at http://127\\.0\\.0\\.1:${port} cannot be reached \\(nothing listens there\\): check --url`,
      ),
    );
  });
});
