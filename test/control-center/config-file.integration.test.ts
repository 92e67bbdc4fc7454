// `latchkey control-center --config FILE` as a process (docs/configuration.md "Control Center"):
// a refused file stops it with exit 78 and one line; the file's settings start it; and the
// first admin token goes to firstAdminTokenFile (0600), never to standard output.
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { latchkeyCommand } from '../../cli/agent-process.js';
import { makeTempDir } from '../helpers/agent-harness.js';
import { freePort } from '../helpers/online-stack.js';
import { runCli } from '../helpers/run-cli.js';

describe('latchkey control-center --config', () => {
  it('refuses a group-writable file (exit 78), and says which setting is missing (exit 64)', async () => {
    const dir = await makeTempDir();
    const file = path.join(dir, 'control-center.json');
    await fs.writeFile(file, JSON.stringify({ database: path.join(dir, 'cc.db'), listen: '127.0.0.1:0' }));
    await fs.chmod(file, 0o664);
    const refused = await runCli(['control-center', '--config', file]);
    expect(refused.code).toBe(78);
    expect(refused.stderr).toMatch(
      /^latchkey: refusing .*control-center\.json: .*must not be group- or world-writable/,
    );
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    await fs.chmod(file, 0o600);
    await fs.writeFile(file, JSON.stringify({ database: path.join(dir, 'cc.db') }));
    const noListen = await runCli(['control-center', '--config', file]);
    expect(noListen.code).toBe(64);
    expect(noListen.stderr).toContain(`--listen HOST:PORT is required (or "listen" in ${file})`);
  });

  it('starts from the file, and writes the first admin token to firstAdminTokenFile only', async () => {
    const dir = await makeTempDir();
    const file = path.join(dir, 'control-center.json');
    const tokenFile = path.join(dir, 'first-admin-token');
    const port = await freePort();
    await fs.writeFile(
      file,
      JSON.stringify({
        database: path.join(dir, 'cc.db'),
        listen: `127.0.0.1:${port}`,
        firstAdminTokenFile: tokenFile,
        logLevel: 'warn',
      }),
      { mode: 0o600 },
    );
    const run = latchkeyCommand(['control-center', '--config', file, '--log-level', 'info']);
    const child = spawn(run.command, run.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      for (const deadline = Date.now() + 30_000; !/control-center\.listening/.test(stderr); ) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`did not start: ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(stderr).toContain(`url=http://127.0.0.1:${port}`); // --log-level info won over the file's warn
      const stats = await fs.stat(tokenFile);
      expect(stats.mode & 0o777).toBe(0o600);
      expect(await fs.readFile(tokenFile, 'utf8')).toMatch(
        /^Latchkey Control Center: first admin token \(shown once, store it now\): lk_admin_[A-Za-z0-9_-]{43}\n$/,
      );
      expect(stdout).toBe('');
      expect(stderr).not.toMatch(/lk_admin_/);
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
    }
  });
});
