/**
 * pam_latchkey.so in real PAM stacks, driven by pamtester against the real agent
 * (docs/pam.md). Two stacks per agent:
 *  - "alone": `auth required pam_latchkey.so` — pamtester's verdict is exactly what the
 *    module returned (a lone PAM_IGNORE shows as "Permission denied");
 *  - "stack": `auth sufficient pam_latchkey.so` before `pam_unix.so` — the stack a lock screen
 *    uses, where the user's password must keep working whatever the agent does.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERDICT, createUser, enroll, latchkey, moduleLine, pamService, pamtester, pins } from './helpers/pam-env.js';
import { removeUser, startAgent, startAgentForUsers, userStateFile, type Agent } from './helpers/pam-env.js';
import { removePamServicesAndUsers } from './helpers/pam-env.js';
import type { TestUser } from './helpers/pam-env.js';

/** How many operations pamtester reports as successful in `output`. */
const successes = (output: string) => output.split(VERDICT.success).length - 1;

let agent: Agent;
let alice: TestUser; // enrolled
let bob: TestUser; // never enrolled
let uri: string;
let alone: string;
let stack: string;
const TIMEOUT_MS = 400;

beforeAll(async () => {
  [agent, uri, alice, bob] = await startAgentForUsers('a', 'b');
  alone = pamService('alone', [moduleLine('required', agent, `timeout=${TIMEOUT_MS}`)]);
  stack = pamService('stack', [moduleLine('sufficient', agent, `timeout=${TIMEOUT_MS}`), 'auth required pam_unix.so']);
});

afterAll(async () => {
  await agent?.stop();
  removePamServicesAndUsers(alice, bob);
});

describe('pamtester: offline PINs at the prompt', () => {
  it('accepts a valid PIN and says how many are left; setcred then succeeds too', () => {
    const [pin] = pins(uri, 0);
    const run = pamtester(alone, alice.name, `${pin}\n`, ['authenticate', 'setcred']);
    expect(run.output).toContain('Offline PIN: ');
    expect(run.output).toContain('Unlocked — 24 offline PINs left.');
    expect(run.output).toContain(VERDICT.success);
    // libpam replays the chain authentication chose and counts this module's setcred answer
    expect(run.output).toContain('credential info has successfully been set');
    expect(run.status).toBe(0);
  });

  it('refuses the same PIN a second time (replay)', () => {
    const [pin] = pins(uri, 0);
    const run = pamtester(alone, alice.name, `${pin}\n`);
    expect(run.output).toContain("That PIN didn't work — type the next offline PIN from your phone.");
    expect(run.output).toContain(VERDICT.authErr);
    expect(run.status).not.toBe(0);
  });

  it('refuses a wrong PIN, then the password still unlocks in the same stack', () => {
    const run = pamtester(stack, alice.name, `ZZZZ-ZZZZ\n${alice.password}\n`);
    expect(run.output).toContain("That PIN didn't work");
    expect(run.output).toContain('Password: ');
    expect(run.output).toContain(VERDICT.success);
  });

  it('accepts a PIN typed in lower case without the hyphen, and several in one session', () => {
    const [second, third] = pins(uri, 1, 2);
    const run = pamtester(alone, alice.name, `${second!.replace('-', '').toLowerCase()}\n${third}\n`, [
      'authenticate',
      'authenticate',
    ]);
    expect(run.output).toContain('Unlocked — 23 offline PINs left.');
    expect(run.output).toContain('Unlocked — 22 offline PINs left.');
    expect(run.status).toBe(0);
  });

  it('passes the PAM service to the agent as the context of the attempt (audit log)', () => {
    const audit = readFileSync(`${agent.stateDir}/audit.jsonl`, 'utf8');
    expect(audit).toContain(`"context":"pam:${alone}"`);
  });

  it('an empty answer skips to the password without counting as a failure', () => {
    const failures = () =>
      JSON.parse(latchkey(['status', '--user', alice.name, '--socket', agent.socket, '--json']).stdout).failures;
    expect(pamtester(alone, alice.name, 'WRONG-PIN1\n').output).toContain(VERDICT.authErr);
    expect(failures()).toBe(1);
    const run = pamtester(stack, alice.name, `\n${alice.password}\n`);
    expect(run.output).toContain('Offline PIN: ');
    expect(run.output).toContain('Password: ');
    expect(run.output).toContain(VERDICT.success);
    expect(failures()).toBe(1);
  });

  it('does not prompt a user who has no offline PINs, and says nothing about them: straight to the password', () => {
    const run = pamtester(stack, bob.name, `${bob.password}\n`);
    expect(run.output).not.toContain('Offline PIN');
    expect(run.output).not.toMatch(/offline PIN/i);
    expect(run.output).toContain(VERDICT.success);
    expect(pamtester(alone, bob.name, '').output).toContain(VERDICT.noDecision);
  });

  it('warns when PINs run low, says when the last one is used, then says there are none left without prompting', () => {
    const [lowPin] = pins(uri, 20); // skipping ahead uses up 3…19 as well
    const low = pamtester(alone, alice.name, `${lowPin}\n`);
    expect(low.output).toContain('4 offline PINs left — sign in once online to get more.');
    const [last] = pins(uri, 24);
    const lastRun = pamtester(alone, alice.name, `${last}\n`);
    expect(lastRun.output).toContain('That was your last offline PIN — sign in once online to get new ones.');
    expect(lastRun.status).toBe(0);
    const after = pamtester(stack, alice.name, `${alice.password}\n`);
    expect(after.output).not.toContain('Offline PIN: ');
    expect(after.output).toContain('No offline PINs left — sign in once online to get new ones.');
    expect(after.output).toContain(VERDICT.success);
  });
});

describe('pamtester: lockout', () => {
  let carol: TestUser;
  let carolUri: string;
  beforeAll(() => {
    carol = createUser('c');
    carolUri = enroll(agent, carol.name);
  });
  afterAll(() => removeUser(carol));

  it('after five wrong PINs says when to try again, then refuses without prompting; the password still works', () => {
    const wrong = ['AAAA-AAAA', 'BBBB-BBBB', 'CCCC-CCCC', 'DDDD-DDDD'];
    for (const pin of wrong) expect(pamtester(alone, carol.name, `${pin}\n`).output).toContain(VERDICT.authErr);
    const fifth = pamtester(alone, carol.name, 'EEEE-EEEE\n');
    expect(fifth.output).toContain("That PIN didn't work. Too many attempts — try again in 1 minute.");
    const locked = pamtester(alone, carol.name, `${pins(carolUri, 0)[0]}\n`);
    expect(locked.output).not.toContain('Offline PIN: ');
    expect(locked.output).toMatch(/Too many attempts — try again in (1 minute|\d+ seconds)\./);
    expect(locked.output).toContain(VERDICT.maxTries);
    const password = pamtester(stack, carol.name, `${carol.password}\n`);
    expect(password.output).toContain(VERDICT.success);
  });
});

describe('pamtester: the password path survives the agent', () => {
  it('falls through at once when the agent is not running', async () => {
    const other = await startAgent();
    const dead = pamService('dead', [
      moduleLine('sufficient', other, `timeout=${TIMEOUT_MS}`),
      'auth required pam_unix.so',
    ]);
    await other.stop();
    const run = pamtester(dead, alice.name, `${alice.password}\n`);
    expect(run.output).not.toContain('Offline PIN: ');
    expect(run.output).toContain(VERDICT.success);
    expect(run.ms).toBeLessThan(5_000); // no wait at all: the socket is gone (no timing claim; bench/ measures)
  });

  it('falls through after the timeout when the agent hangs', async () => {
    const hung = await startAgent();
    const svc = pamService('hung', [
      moduleLine('sufficient', hung, `timeout=${TIMEOUT_MS}`),
      'auth required pam_unix.so',
    ]);
    hung.child.kill('SIGSTOP');
    try {
      const run = pamtester(svc, alice.name, `${alice.password}\n`);
      expect(run.output).not.toContain('Offline PIN: ');
      expect(run.output).toContain(VERDICT.success);
      expect(run.ms).toBeGreaterThanOrEqual(TIMEOUT_MS); // it did wait for the agent, then gave up
      expect(run.ms).toBeLessThan(TIMEOUT_MS + 10_000);
    } finally {
      await hung.stop();
    }
  });

  it('offline mode off: no prompt, no message, the password decides', async () => {
    const off = await startAgent({ policy: { offlineMode: false } });
    const svc = pamService('off', [
      moduleLine('sufficient', off, `timeout=${TIMEOUT_MS}`),
      'auth required pam_unix.so',
    ]);
    try {
      const run = pamtester(svc, alice.name, `${alice.password}\n`);
      expect(run.output).not.toContain('Offline PIN');
      expect(run.output).not.toContain('offline');
      expect(run.output).toContain(VERDICT.success);
    } finally {
      await off.stop();
    }
  });

  it('corrupt agent state: says PINs are unavailable, and pam_unix with the password still authenticates', async () => {
    const broken = await startAgent();
    const dave = createUser('d');
    try {
      enroll(broken, dave.name);
      writeFileSync(
        userStateFile(broken, dave.name),
        '{"format":"latchkey-user-state","version":1,"nonce":"AAAA","sealed":"garbage"}',
      );
      const svc = pamService('corrupt', [
        moduleLine('sufficient', broken, `timeout=${TIMEOUT_MS}`),
        'auth required pam_unix.so',
      ]);
      const run = pamtester(svc, dave.name, `${dave.password}\n`);
      expect(run.output).not.toContain('Offline PIN: ');
      expect(run.output).toContain('Offline PINs are unavailable right now — use your password.');
      expect(run.output).toContain('Password: ');
      expect(run.output).toContain(VERDICT.success);
      expect(pamtester(svc, dave.name, 'wrong-password\n').output).toContain(VERDICT.authErr); // and it still checks it
    } finally {
      await broken.stop();
      removeUser(dave);
    }
  });

  it('a malformed option makes the module step aside; the password still works', () => {
    const bad = pamService('badopt', [moduleLine('sufficient', agent, 'timeout=soon'), 'auth required pam_unix.so']);
    const run = pamtester(bad, alice.name, `${alice.password}\n`);
    expect(run.output).not.toContain('Offline PIN: ');
    expect(run.output).toContain(VERDICT.success);
    const lone = pamService('badopt-alone', [moduleLine('required', agent, 'nullok')]);
    expect(pamtester(lone, alice.name, '').output).toContain(VERDICT.noDecision);
  });
});

describe('pamtester: the connection a PAM handle keeps (docs/pam.md "One connection per PAM handle")', () => {
  const count = (agent: Agent) => agent.output().split('ipc.connection').length - 1;
  /** Connections the agent logged (its log arrives on a pipe: wait for it to settle). */
  const connections = async (agent: Agent) => {
    let seen = -1;
    for (let n = count(agent); n !== seen; n = count(agent)) {
      seen = n;
      await new Promise((r) => setTimeout(r, 300));
    }
    return seen;
  };

  it('asks status and the PIN on one connection, keeps it for the next attempt, and setcred closes it', async () => {
    const chatty = await startAgent({ logLevel: 'debug' });
    try {
      const user = alice.name;
      const codes = pins(enroll(chatty, user), 0, 5);
      const svc = pamService('kept', [moduleLine('required', chatty, `timeout=${TIMEOUT_MS}`)]);
      const before = await connections(chatty);
      const typed = (lines: string[]) => `${lines.join('\n')}\n`;
      const three = pamtester(svc, user, typed(codes.slice(0, 3)), ['authenticate', 'authenticate', 'authenticate']);
      expect(successes(three.output)).toBe(3);
      expect((await connections(chatty)) - before).toBe(1);
      const split = pamtester(svc, user, typed(codes.slice(3, 5)), ['authenticate', 'setcred', 'authenticate']);
      expect(successes(split.output)).toBe(2);
      expect((await connections(chatty)) - before).toBe(3);
    } finally {
      await chatty.stop();
    }
  });

  it('connects afresh when the agent went away while the person typed, and the PIN still counts once', async () => {
    const dir = mkdtempSync('/tmp/latchkey-pam-');
    const first = await startAgent({ dir });
    let second: Agent | undefined;
    const svc = pamService('restart', [moduleLine('required', first, `timeout=${TIMEOUT_MS}`)]);
    const codes = pins(enroll(first, alice.name), 0, 2);
    const child = spawn('pamtester', ['-v', svc, alice.name, 'authenticate', 'authenticate'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    try {
      let output = '';
      const prompts = () => output.split('Offline PIN: ').length - 1;
      child.stdout.on('data', (d) => (output += d));
      child.stderr.on('data', (d) => (output += d));
      const until = async (done: () => boolean) => {
        for (const deadline = Date.now() + 20_000; !done(); await new Promise((r) => setTimeout(r, 20)))
          if (Date.now() > deadline) throw new Error(`pamtester said: ${output}`);
      };
      await until(() => prompts() === 1);
      child.stdin.write(`${codes[0]}\n`);
      await until(() => prompts() === 2); // the second attempt's status went over the kept connection
      await first.stop();
      second = await startAgent({ dir });
      child.stdin.end(`${codes[1]}\n`);
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(successes(output), output).toBe(2);
      expect(code).toBe(0);
      expect(pamtester(svc, alice.name, `${codes[1]}\n`).output).not.toContain(VERDICT.success); // replay
    } finally {
      child.kill();
      await first.stop(); // again when the test went wrong before it did
      await second?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
