// `latchkey agent --stop-on-stdin-close` (docs/windows.md §2): the Windows service wrapper asks
// the agent to stop by closing its standard input. Opt-in: without the flag a closed standard
// input (systemd gives /dev/null) changes nothing. Run on Linux here; under wine through the real
// service wrapper in test/windows/agent.integration.test.ts.
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { latchkeyCommand } from '../../cli/agent-process.js';
import { canConnect, makeTempDir, removeTempDirs, writeAgentConfig } from '../helpers/agent-harness.js';

afterAll(removeTempDirs);

async function startAgent(flags: string[]) {
  const files = await writeAgentConfig(await makeTempDir(), { offlineMode: true });
  const run = latchkeyCommand(['agent', '--config', files.configFile, ...flags]);
  const child = spawn(run.command, run.args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 20_000;
  while (!(await canConnect(files.socket))) {
    if (child.exitCode !== null) throw new Error(`the agent exited with ${child.exitCode}: ${output}`);
    if (Date.now() > deadline) throw new Error(`the agent did not start: ${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { child, files, exited, output: () => output };
}

describe('the agent and its standard input', () => {
  it('with --stop-on-stdin-close, stops cleanly (exit 0) when standard input closes', async () => {
    const agent = await startAgent(['--stop-on-stdin-close']);
    agent.child.stdin.end();
    expect(await agent.exited).toBe(0);
    expect(agent.output()).toMatch(/agent\.stopping signal="?stdin-closed/);
    expect(await canConnect(agent.files.socket)).toBe(false);
  }, 60_000);

  it('without it, a closed standard input changes nothing (systemd gives /dev/null)', async () => {
    const agent = await startAgent([]);
    agent.child.stdin.end();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(agent.child.exitCode).toBeNull();
    expect(await canConnect(agent.files.socket)).toBe(true);
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
  }, 60_000);
});
