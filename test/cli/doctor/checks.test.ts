/**
 * `latchkey doctor`'s judgement (cli/doctor/checks.ts) for states the integration tests cannot
 * reach quickly (an expired pool, ten failures, a policy from the Control Center turned off, a
 * refusal for a user who is not root): findings in, ✓ / ✗ lines and the verdict out. Pure.
 */
import { describe, expect, it } from 'vitest';
import { diagnose } from '../../../cli/doctor/checks.js';
import type { DoctorFindings, StatusAnswer, StatusDetail } from '../../../cli/doctor/findings.js';

const NOW = Date.parse('2026-12-04T12:00:00Z');
const detail = (over: Partial<StatusDetail> = {}): StatusDetail => ({
  user: 'alice',
  offlineMode: true,
  failures: 0,
  locked: false,
  retryAfter: null,
  disabled: false,
  blePhones: [],
  pools: [
    { authenticatorId: 'phone', remaining: 7, pinCount: 25, expiresAt: '2027-01-03T00:00:00.000Z', expired: false },
  ],
  policy: { source: 'config-file', file: '/etc/latchkey/agent.json' },
  controlCenter: null,
  keystore: { backend: 'file', ready: true },
  ble: { enabled: false, transport: 'hci:0' },
  ...over,
});
const answer = (over: Partial<StatusAnswer> = {}, detailOver: Partial<StatusDetail> = {}): StatusAnswer => ({
  status: 'ok',
  offlineMode: true,
  usable: true,
  locked: false,
  online: false,
  ble: false,
  detail: detail(detailOver),
  ...over,
});
const findings = (over: Partial<DoctorFindings> = {}): DoctorFindings => ({
  user: 'alice',
  userExists: true,
  socket: '/run/latchkey/agent.sock',
  agentUids: [0],
  agent: { reachable: true, listenerUid: 0, answer: answer() },
  pam: {
    configDirectory: '/etc/pam.d',
    configDirectoryExists: true,
    moduleDirectory: '/lib/x86_64-linux-gnu/security',
    services: [
      {
        service: 'common-auth',
        references: [
          { file: 'common-auth', line: 1, control: 'sufficient', path: 'pam_latchkey.so', options: {}, via: [] },
        ],
        missingIncludes: [],
      },
    ],
    moduleFiles: [{ path: '/lib/x86_64-linux-gnu/security/pam_latchkey.so', state: 'ok' }],
  },
  syslog: { path: '/dev/log', present: true },
  controlCenterProbe: null,
  bleAdapter: null,
  asRoot: true,
  now: NOW,
  ...over,
});
/** Findings where the agent answers `status` with this. */
const agentAnswers = (status: StatusAnswer) => findings({ agent: { reachable: true, listenerUid: 0, answer: status } });
const problems = (f: DoctorFindings) => diagnose(f).checks.filter((check) => check.status === 'problem');
/** Doctor finds exactly this one problem in `f` (the fields given), and the lock screen prompts for a PIN or not. */
function expectOneProblem(f: DoctorFindings, pinPrompt: boolean, problem: Record<string, unknown>) {
  expect(problems(f)).toEqual([expect.objectContaining(problem)]);
  expect(diagnose(f).pinPrompt).toBe(pinPrompt);
}

describe('diagnose', () => {
  it('all in place: a prompt, no ✗', () => {
    const result = diagnose(findings());
    expect(result).toMatchObject({ pinPrompt: true, promptAt: ['common-auth'] });
    expect(problems(findings())).toEqual([]);
  });

  it('an expired pool while no other is usable blocks the prompt; beside a usable one it does not', () => {
    const expired = {
      authenticatorId: 'old',
      remaining: 3,
      pinCount: 25,
      expiresAt: '2026-11-01T00:00:00.000Z',
      expired: true,
    };
    const alone = agentAnswers(answer({ usable: false, reason: 'pools-expired' }, { pools: [expired] }));
    expectOneProblem(alone, false, {
      id: 'pins',
      text: 'old: the offline PINs expired on 2026-11-01',
      fix: 'latchkey enroll --user alice for a new pool',
      blocking: true,
    });
    const beside = agentAnswers(answer({}, { pools: [detail().pools[0]!, expired] }));
    expectOneProblem(beside, true, { id: 'pins', blocking: false });
  });

  it('ten failures: disabled, with the reset as the fix', () => {
    const f = agentAnswers(answer({ locked: true }, { disabled: true, failures: 10, locked: true }));
    expectOneProblem(f, false, {
      id: 'lockout',
      text: 'offline PINs are disabled for alice after 10 failed attempts',
      fix: 'latchkey reset --user alice (root), or sign in online once',
    });
  });

  it("Offline Mode off in the Control Center's signed policy: its revision and age, and the admin's fix", () => {
    const policy = {
      source: 'control-center' as const,
      version: 7,
      issuedAt: new Date(NOW - 3 * 3_600_000).toISOString(),
    };
    const f = findings({
      agent: {
        reachable: true,
        listenerUid: 0,
        answer: answer(
          { offlineMode: false, usable: false },
          { policy, controlCenter: { url: 'https://cc.example', online: true } },
        ),
      },
      controlCenterProbe: { answered: true },
    });
    expectOneProblem(f, false, {
      text: 'offline PINs are off (policy signed by the Control Center, revision 7, 3 h old): the lock screen asks for no PIN',
      fix: expect.stringContaining('latchkey admin settings set offlineMode=true'),
    });
    expect(diagnose(f).checks).toContainEqual(
      expect.objectContaining({
        id: 'control-center',
        status: 'ok',
        text: 'the Control Center https://cc.example answers',
      }),
    );
  });

  it('a user who is not root asking about someone else is told to use sudo', () => {
    const f = findings({
      asRoot: false,
      user: 'bob',
      agent: {
        reachable: true,
        listenerUid: 0,
        answer: null,
        problem: 'uid 1000 may only ask about its own user, not "bob" (permission-denied)',
      },
    });
    expectOneProblem(f, false, { id: 'agent-status', fix: 'run it as root: sudo latchkey doctor --user bob' });
  });

  it('new PINs the phone showed but has not confirmed are worth knowing, not a problem', () => {
    const pending = { ...detail().pools[0]!, remaining: 25, pending: true };
    const f = agentAnswers(answer({}, { pools: [detail().pools[0]!, pending] }));
    expect(diagnose(f).checks).toContainEqual(
      expect.objectContaining({
        id: 'pins-pending',
        status: 'info',
        text: expect.stringContaining('25 new PINs sent to the phone'),
      }),
    );
  });

  it('no PAM configuration directory at all', () => {
    const f = findings({
      pam: {
        configDirectory: '/chroot/etc/pam.d',
        configDirectoryExists: false,
        moduleDirectory: '/x',
        services: [],
        moduleFiles: [],
      },
    });
    expectOneProblem(f, false, { id: 'pam-stacks', text: 'there is no PAM configuration in /chroot/etc/pam.d' });
  });
});
