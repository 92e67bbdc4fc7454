/**
 * A real screen locker: i3lock under Xvfb, running as the enrolled user (so the module talks
 * to the agent as that user, not as root), its PAM service pointing at pam_latchkey.so, and
 * the PIN typed with xdotool like keystrokes on a keyboard (docs/pam.md "Screen lockers").
 * i3lock exits when it unlocks; a locker that is still running is still locked.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { scratchDir, removeScratchDir } from './helpers/native-tools.js';
import { latchkey, moduleLine, pins, removeUser, startAgentForUsers } from './helpers/pam-env.js';
import { auditEntries, type Agent, type TestUser } from './helpers/pam-env.js';

/** A display number no X server on this machine uses yet. */
function freeDisplay(): number {
  for (let n = 40 + (process.pid % 50); n < 400; n++) {
    if (!existsSync(`/tmp/.X11-unix/X${n}`) && !existsSync(`/tmp/.X${n}-lock`)) return n;
  }
  throw new Error('no free X display number');
}
const DISPLAY_NUMBER = freeDisplay();
const DISPLAY = `:${DISPLAY_NUMBER}`;
let xvfb: ChildProcess;
let agent: Agent;
let user: TestUser;
let uri: string;
let service: string;
let locker: ChildProcess | undefined;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await sleep(50);
  }
  return check();
}

const xdotool = (...args: string[]) =>
  spawnSync('xdotool', args, { env: { ...process.env, DISPLAY }, encoding: 'utf8' });

/** Starts i3lock as the user, its PAM service swapped in a private mount namespace. */
async function lockScreen(): Promise<ChildProcess> {
  const child = spawn(
    'unshare',
    [
      '-m',
      'sh',
      '-c',
      'mount --bind "$1" /etc/pam.d/i3lock && exec runuser -u "$2" -- env DISPLAY="$3" i3lock -n',
      'sh',
      service,
      user.name,
      DISPLAY,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  // i3lock grabs the keyboard right after its window becomes viewable (a grab needs one). On a
  // machine busy with the package builds beside this suite, that can take a while.
  const shown = await until(
    () => child.exitCode !== null || xdotool('search', '--onlyvisible', '--class', 'i3lock').stdout.trim() !== '',
    30_000,
  );
  if (!shown || child.exitCode !== null) throw new Error(`i3lock did not come up (exit ${child.exitCode}): ${output}`);
  await sleep(700);
  return child;
}

function type(text: string): void {
  xdotool('type', '--delay', '20', text);
  xdotool('key', 'Return');
}

const running = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

beforeAll(async () => {
  xvfb = spawn('Xvfb', [DISPLAY, '-screen', '0', '800x600x24', '-nolisten', 'tcp', '-ac'], { stdio: 'ignore' });
  if (!(await until(() => existsSync(`/tmp/.X11-unix/X${DISPLAY_NUMBER}`), 10_000)))
    throw new Error('Xvfb did not start');
  [agent, uri, user] = await startAgentForUsers('l');
  service = join(scratchDir(), 'pam.d-i3lock');
  writeFileSync(
    service,
    [moduleLine('sufficient', agent, 'timeout=2000'), '@include common-auth', '@include common-account', ''].join('\n'),
  );
});

afterEach(() => {
  if (locker && running(locker)) locker.kill('SIGKILL');
  locker = undefined;
});

afterAll(async () => {
  removeScratchDir();
  await agent?.stop();
  xvfb?.kill('SIGTERM');
  removeUser(user);
});

describe('i3lock under Xvfb', () => {
  it('unlocks with a valid offline PIN typed on the keyboard', async () => {
    locker = await lockScreen();
    type(pins(uri, 0)[0]!);
    expect(await until(() => !running(locker!), 10_000)).toBe(true);
    expect(locker.exitCode).toBe(0);
    // the module asked as the user itself (no root needed at the lock screen)
    expect(auditEntries(agent).at(-1)).toMatchObject({
      event: 'verify',
      user: user.name,
      result: 'accepted',
      context: 'pam:i3lock',
      peer: { uid: user.uid },
    });
  }, 60_000);

  it('stays locked on a wrong PIN and on a used one, then unlocks with the next PIN', async () => {
    locker = await lockScreen();
    type('WRONGPIN');
    await sleep(3_000);
    expect(running(locker)).toBe(true);
    type(pins(uri, 0)[0]!); // already used
    await sleep(3_000);
    expect(running(locker)).toBe(true);
    type(pins(uri, 1)[0]!);
    expect(await until(() => !running(locker!), 10_000)).toBe(true);
    expect(locker.exitCode).toBe(0);
    const verdicts = auditEntries(agent)
      .slice(-3)
      .map((entry) => entry.result);
    expect(verdicts).toEqual(['rejected', 'rejected', 'accepted']);
  }, 60_000);

  it("still unlocks with the user's password, again and again, at the cost of one counted failure", async () => {
    // i3lock gives the one secret it reads to every prompt: the password reaches the agent as
    // a PIN first (refused), then pam_unix, which unlocks. The same wrong input counts once.
    for (let i = 0; i < 2; i++) {
      locker = await lockScreen();
      type(user.password);
      expect(await until(() => !running(locker!), 15_000)).toBe(true);
      expect(locker.exitCode).toBe(0);
    }
    const status = JSON.parse(latchkey(['status', '--user', user.name, '--socket', agent.socket, '--json']).stdout);
    expect(status.failures).toBe(1);
  }, 120_000);

  it('stays usable when the agent is gone: the password unlocks', async () => {
    await agent.stop();
    locker = await lockScreen();
    type(user.password);
    expect(await until(() => !running(locker!), 15_000)).toBe(true);
    expect(locker.exitCode).toBe(0);
  }, 60_000);
});
