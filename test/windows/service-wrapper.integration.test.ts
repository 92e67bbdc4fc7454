/**
 * The service wrapper LatchkeyAgent (docs/windows.md §2) under wine's service manager: it starts
 * its child (node.exe, as it will start the agent), restarts it after a crash with a growing
 * back-off, stops it on SERVICE_CONTROL_STOP through its standard input, does not restart it after
 * exit 78 or 0, and reports each state.
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, WinePrefix, buildWindowsParts, nodeExe, waitFor, windowsPath } from './helpers/wine.js';

let wine: WinePrefix;
let build: string;
let dir: string;
const childLog = () => wine.readText(join(dir, 'child.log'));
const starts = () =>
  childLog()
    .split('\n')
    .filter((line) => line.startsWith('started')).length;
const wrapperLog = () => wine.readText(join(dir, 'agent.log'));
const query = () => wine.sc(['query', 'LatchkeyAgent'], true);

/** node.exe processes of this prefix still alive, seen from Linux (/proc). */
function nodeProcesses(): number[] {
  return readdirSync('/proc')
    .filter((pid) => /^\d+$/.test(pid))
    .map(Number)
    .filter((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        return (
          cmdline.includes('node.exe') &&
          readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`WINEPREFIX=${wine.prefix}`)
        );
      } catch {
        return false;
      }
    });
}

const untilStopped = () => waitFor('STOPPED', () => wine.serviceState('LatchkeyAgent') === 'STOPPED', 30_000);

/**
 * Starts the service with the file `exitCue` in the child's directory (service-child.mjs then exits
 * 78 on `refuse`, 0 on `done`), waits until the service stops, and returns how many times it started
 * the child meanwhile.
 */
async function startUntilStopped(exitCue: 'refuse' | 'done'): Promise<number> {
  const before = starts();
  writeFileSync(join(dir, exitCue), '');
  try {
    wine.sc(['start', 'LatchkeyAgent']);
    await untilStopped();
    return starts() - before;
  } finally {
    rmSync(join(dir, exitCue));
  }
}

function createService(program: string[]): void {
  wine.createAgentService(join(build, 'latchkey-service.exe'), join(dir, 'agent.log'), program);
}

beforeAll(() => {
  wine = WinePrefix.create();
  build = join(wine.dir, 'build');
  dir = join(wine.dir, 'service');
  buildWindowsParts(build);
  wine.run(['cmd', '/c', 'mkdir', windowsPath(dir)]);
  createService([
    windowsPath(nodeExe()),
    windowsPath(join(ROOT, 'test', 'windows', 'service-child.mjs')),
    windowsPath(dir),
  ]);
}, 300_000);

afterAll(async () => {
  wine?.sc(['stop', 'LatchkeyAgent'], true);
  await wine?.destroy();
}, 120_000);

describe('LatchkeyAgent', () => {
  it('starts its child and reports RUNNING', async () => {
    wine.sc(['start', 'LatchkeyAgent']);
    await waitFor('the child', () => starts() === 1, 60_000);
    expect(wine.serviceState('LatchkeyAgent')).toBe('RUNNING');
    expect(wrapperLog()).toMatch(/latchkey-service: started the agent, pid \d+/);
  }, 90_000);

  it('restarts a crashed child after 2 s, then after 4 s', async () => {
    for (const [round, seconds] of [
      [2, 2],
      [3, 4],
    ] as const) {
      writeFileSync(join(dir, 'crash'), '');
      await waitFor(
        'the crash to be noticed',
        () => wrapperLog().includes(`exited with code 3; starting it again in ${seconds} s`),
        30_000,
      );
      rmSync(join(dir, 'crash'));
      await waitFor('the restart', () => starts() === round, 30_000);
      expect(wine.serviceState('LatchkeyAgent')).toBe('RUNNING');
    }
  }, 90_000);

  it('stops on SERVICE_CONTROL_STOP: the child is asked through its standard input and is gone', async () => {
    wine.sc(['stop', 'LatchkeyAgent']);
    await untilStopped();
    expect(childLog()).toContain('stopped by the wrapper');
    expect(wrapperLog()).not.toContain('did not stop within');
    await waitFor('no node.exe left', () => nodeProcesses().length === 0, 10_000);
    expect(query()).toMatch(/WIN32_EXIT_CODE\s*:\s*0\b/);
  }, 60_000);

  it('does not restart a child that refused its configuration (exit 78), and says why in its status', async () => {
    expect(await startUntilStopped('refuse')).toBe(1);
    expect(query()).toMatch(/WIN32_EXIT_CODE\s*:\s*1066\b/); // ERROR_SERVICE_SPECIFIC_ERROR
    expect(query()).toMatch(/SERVICE_EXIT_CODE\s*:\s*78\b/);
    expect(wrapperLog()).toContain('refused its configuration (exit 78)');
  }, 60_000);

  it('stops without a restart when the child ends with 0', async () => {
    expect(await startUntilStopped('done')).toBe(1);
    expect(query()).toMatch(/WIN32_EXIT_CODE\s*:\s*0\b/);
  }, 60_000);

  it('keeps running, and says so, while its program cannot be started', async () => {
    createService([windowsPath(join(dir, 'missing.exe'))]);
    wine.sc(['start', 'LatchkeyAgent']);
    await waitFor('the failure in the log', () => wrapperLog().includes('could not start the agent (error 2)'), 30_000);
    expect(wine.serviceState('LatchkeyAgent')).toBe('RUNNING');
    wine.sc(['stop', 'LatchkeyAgent']);
    await untilStopped();
  }, 60_000);

  it('run by hand, outside the service manager, or without a program: one line and exit 2', () => {
    const wrapper = join(build, 'latchkey-service.exe');
    const byHand = wine.run([wrapper, '--', 'cmd.exe'], { allowFailure: true });
    expect(byHand.status).toBe(2);
    expect(byHand.stderr).toContain('latchkey-service: run this as the LatchkeyAgent service (sc start LatchkeyAgent)');
    const bare = wine.run([wrapper, '--log', 'x'], { allowFailure: true });
    expect(bare.status).toBe(2);
    expect(bare.stderr).toMatch(/^latchkey-service: nothing to run after --; usage: /);
  });
});
