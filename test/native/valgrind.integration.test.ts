/**
 * The pamtester flows again, with pamtester (and so libpam and pam_latchkey.so) under
 * valgrind memcheck: no invalid read or write, no use of uninitialised memory, no leak, on
 * every path through the module — accepted, rejected, replayed, skipped, locked, no pool,
 * agent gone, agent hung, malformed option, unreadable state.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERDICT, createUser, enroll, moduleLine, pamService, pamtester, pins } from './helpers/pam-env.js';
import { removeUser, startAgent, startAgentForUsers, userStateFile, type Agent } from './helpers/pam-env.js';
import { removePamServicesAndUsers } from './helpers/pam-env.js';
import type { TestUser } from './helpers/pam-env.js';

const VALGRIND = [
  'valgrind',
  '--leak-check=full',
  '--show-leak-kinds=definite,indirect,possible',
  '--errors-for-leak-kinds=definite,indirect,possible',
  '--track-origins=yes',
  '--error-exitcode=99',
];
let agent: Agent;
let alice: TestUser;
let bob: TestUser;
let uri: string;
let alone: string;

beforeAll(async () => {
  [agent, uri, alice, bob] = await startAgentForUsers('va', 'vb');
  alone = pamService('vg', [moduleLine('required', agent, 'timeout=1500')]);
});

afterAll(async () => {
  await agent?.stop();
  removePamServicesAndUsers(alice, bob);
});

function underValgrind(service: string, user: string, input: string, operations = ['authenticate']) {
  const run = pamtester(service, user, input, operations, VALGRIND);
  expect(run.output).toMatch(/ERROR SUMMARY: 0 errors from 0 contexts/);
  expect(run.output).toMatch(/All heap blocks were freed -- no leaks are possible|definitely lost: 0 bytes/);
  expect(run.status).not.toBe(99);
  return run;
}

describe('memcheck on the pamtester flows', () => {
  it('an accepted PIN, then setcred', () => {
    const run = underValgrind(alone, alice.name, `${pins(uri, 0)[0]}\n`, ['authenticate', 'setcred']);
    expect(run.output).toContain('Unlocked — 24 offline PINs left.');
    expect(run.output).toContain('credential info has successfully been set');
  }, 60_000);

  it('a wrong PIN, a replayed PIN, an empty answer', () => {
    expect(underValgrind(alone, alice.name, 'WRONG-PIN\n').output).toContain(VERDICT.authErr);
    expect(underValgrind(alone, alice.name, `${pins(uri, 0)[0]}\n`).output).toContain(VERDICT.authErr);
    expect(underValgrind(alone, alice.name, '\n').output).toContain(VERDICT.noDecision);
  }, 60_000);

  it('a user without PINs', () => {
    expect(underValgrind(alone, bob.name, '').output).toContain(VERDICT.noDecision);
  }, 60_000);

  it('a locked user (no prompt, PAM_MAXTRIES)', () => {
    const carol = createUser('vc');
    try {
      enroll(agent, carol.name);
      for (const pin of ['AAAA-AAAA', 'BBBB-BBBB', 'CCCC-CCCC', 'DDDD-DDDD', 'EEEE-EEEE'])
        pamtester(alone, carol.name, `${pin}\n`);
      expect(underValgrind(alone, carol.name, '').output).toContain(VERDICT.maxTries);
    } finally {
      removeUser(carol);
    }
  }, 60_000);

  it('unreadable state (the agent answers unavailable)', () => {
    const dave = createUser('vd');
    try {
      enroll(agent, dave.name);
      writeFileSync(userStateFile(agent, dave.name), 'not a state file');
      const run = underValgrind(alone, dave.name, '');
      expect(run.output).toContain('Offline PINs are unavailable right now — use your password.');
    } finally {
      removeUser(dave);
    }
  }, 60_000);

  it('a malformed option', () => {
    const bad = pamService('vg-bad', [moduleLine('required', agent, 'timeout=0')]);
    expect(underValgrind(bad, alice.name, '').output).toContain(VERDICT.noDecision);
  }, 60_000);

  it('the agent hung (timeout), then gone', async () => {
    const other = await startAgent();
    const svc = pamService('vg-other', [moduleLine('required', other, 'timeout=300')]);
    other.child.kill('SIGSTOP');
    expect(underValgrind(svc, alice.name, '').output).toContain(VERDICT.noDecision);
    await other.stop();
    expect(underValgrind(svc, alice.name, '').output).toContain(VERDICT.noDecision);
  }, 60_000);
});
