/**
 * The credential provider under wine (docs/windows.md §4, §10): cp-harness.exe plays LogonUI and
 * loads latchkey-cp.dll by its CLSID through COM; a stand-in agent (stand-in-agent.mjs, node.exe,
 * the agent's TypeScript frame codec) answers on \\.\pipe\latchkey-agent, run by the real service
 * wrapper as LatchkeyAgent, so the provider's check of who holds the pipe is the real one.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROVIDER_CLSID, ROOT, WinePrefix, buildWindowsParts, nodeExe, waitFor, windowsPath } from './helpers/wine.js';
import { stopAfterAll } from '../helpers/stop-after-all.js';

const PIPE = '\\\\.\\pipe\\latchkey-agent';
const OPTIONS_KEY = 'HKLM\\SOFTWARE\\Latchkey\\CredentialProvider';
const ALICE = { domain: 'DESK-042', user: 'alice', password: 'correct horse \u2603' };
const SAY = {
  fallback: 'Offline PINs are unavailable right now \u2014 use your password.',
  wrong: "That PIN didn't work \u2014 type the next offline PIN from your phone.",
  noCredential: 'Latchkey could not sign you in to Windows \u2014 use your password.',
  ask: 'Type an offline PIN, or choose Approve on my phone.',
  approve: 'Approve on your phone\u2026',
  badOptions: 'Latchkey is not set up correctly on this computer \u2014 use your password, and tell IT.',
  typeUser: 'Type your user name first.',
  stale: 'Windows did not accept your saved password \u2014 sign in with your password once.',
};
const USABLE = { status: 'ok', offlineMode: true, usable: true, remaining: 5 };

interface Step {
  step: string;
  status?: string;
  text?: string;
  response?: number;
  icon?: number;
  autoLogon?: number;
  changed?: number;
  afterMs?: number;
  said?: string;
  fields?: Record<string, { state: string; interactive: string }>;
  serialization?: {
    package: number;
    provider: string;
    messageType: number;
    domain: string;
    user: string;
    password: string;
  } | null;
}
interface Run {
  created: number;
  labels: string[];
  count: number;
  steps: Step[];
  released: boolean;
}

let wine: WinePrefix;
let work: string;
let build: string;
const files = () => ({
  script: join(work, 'script.json'),
  requests: join(work, 'requests.log'),
  ready: join(work, 'ready'),
  log: join(work, 'agent.log'),
});

function script(entries: Record<string, unknown>): void {
  writeFileSync(files().script, JSON.stringify(entries));
  rmSync(files().requests, { force: true });
}

/** test/windows/stand-in-agent.mjs's arguments: it serves PIPE from `f.script`, logs to `f.requests`, touches `f.ready`. */
function standIn(f: { script: string; requests: string; ready: string }): string[] {
  return [
    windowsPath(join(ROOT, 'test', 'windows', 'stand-in-agent.mjs')),
    PIPE,
    windowsPath(f.script),
    windowsPath(f.requests),
    windowsPath(f.ready),
    windowsPath(join(ROOT, 'dist', 'protocol')),
  ];
}

function requests(): Record<string, unknown>[] {
  if (!existsSync(files().requests)) return [];
  return readFileSync(files().requests, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function harness(scenario: 'logon' | 'unlock', ...steps: string[]): Run {
  const run = wine.run([join(build, 'cp-harness.exe'), scenario, ...steps]);
  return JSON.parse(run.stdout) as Run;
}

const last = (run: Run) => run.steps.at(-1)!;

/** At the sign-in screen, DESK-042\\alice picks "Sign in with my password", then `steps`. */
const withPassword = (...steps: string[]) => harness('logon', 'select', 'user=DESK-042\\alice', 'password', ...steps);

function option(name: string, value: string | number | undefined): void {
  if (value === undefined) wine.run(['reg', 'delete', OPTIONS_KEY, '/v', name, '/f'], { allowFailure: true });
  else
    wine.reg([
      'add',
      OPTIONS_KEY,
      '/v',
      name,
      '/t',
      typeof value === 'number' ? 'REG_DWORD' : 'REG_SZ',
      '/d',
      String(value),
      '/f',
    ]);
}

/** The stand-in, as the service LatchkeyAgent (the service wrapper runs it, as it will run the agent). */
async function startAgentService(): Promise<void> {
  rmSync(files().ready, { force: true });
  wine.sc(['start', 'LatchkeyAgent']);
  await waitFor('the stand-in agent on its pipe', () => existsSync(files().ready), 60_000);
}

async function stopAgentService(): Promise<void> {
  wine.sc(['stop', 'LatchkeyAgent'], true);
  await waitFor('LatchkeyAgent to stop', () => wine.serviceState('LatchkeyAgent') === 'STOPPED', 30_000);
}

const suite = stopAfterAll();
beforeAll(async () => {
  wine = suite.stop(WinePrefix.create(), (prefix) => prefix.destroy());
  work = join(wine.dir, 'work');
  build = join(wine.dir, 'build');
  mkdirSync(work);
  buildWindowsParts(build);
  const node = nodeExe();
  wine.addNegotiatePackage();
  wine.registerProvider(join(build, 'latchkey-cp.dll'));
  // Under wine every process runs as the same user; on Windows the agent's SID is SYSTEM's (the default).
  option('AgentAccount', wine.sid(join(build, 'cp-harness.exe')));
  script({ status: USABLE });
  const f = files();
  wine.createAgentService(join(build, 'latchkey-service.exe'), f.log, [windowsPath(node), ...standIn(f)]);
  await startAgentService();
}, 300_000);

describe('the provider as LogonUI loads it', () => {
  it('is found by its CLSID and offers one Latchkey tile with the fields of §4.3', () => {
    script({ status: USABLE });
    const run = harness('logon', 'status');
    expect(run).toMatchObject({
      created: 0,
      count: 1,
      released: true,
      labels: ['Latchkey', 'User name', 'Offline PIN', 'Approve on my phone', '', 'Submit', 'Sign in with my password'],
    });
    expect(last(run).fields!.user!.state).toBe('selected');
    expect(harness('unlock', 'status').steps[0]!.fields!.user!.state).toBe('hidden');
  });
});

describe('"Sign in with my password" (docs/windows.md §6.1)', () => {
  const TYPED = 'new password 42'; // ASCII: wine hands the harness its arguments in the ANSI code page

  it('packs the typed password like any password and, once LSA accepted it, hands it to the agent', () => {
    script({ status: USABLE, 'credential-capture': { status: 'ok' } });
    const run = withPassword('status', `pin=${TYPED}`, 'serialize', 'report=0');
    expect(run.steps[0]!.fields!.passwordLink).toMatchObject({ state: 'selected' });
    expect(run.steps[2]).toMatchObject({ said: 'Type your Windows password.' });
    // The PIN field now takes the password; the link is gone until the sign-in is over.
    expect(run.steps[3]!.fields).toMatchObject({ pin: { interactive: 'focused' }, passwordLink: { state: 'hidden' } });
    expect(run.steps[5]).toMatchObject({
      response: 2,
      serialization: { messageType: 2, domain: 'DESK-042', user: 'alice', password: TYPED },
    });
    expect(last(run)).toMatchObject({ hr: 0, text: '' });
    // Nothing reached the agent before LSA said yes; then one lock-screen connection: status, credential-capture.
    const ops = requests();
    expect(ops.map((r) => r.op)).toEqual(['status', 'credential-capture']);
    expect(ops[0]).toMatchObject({ lockScreen: true, user: 'DESK-042\\alice' });
    expect(ops[1]).toMatchObject({ user: 'DESK-042\\alice', password: TYPED });
  });

  it("at the lock screen: the locked session's account, the unlock logon, then the capture", () => {
    script({ status: USABLE, 'credential-capture': { status: 'ok' } });
    const run = harness('unlock', 'select', 'password', `pin=${TYPED}`, 'serialize', 'report=0');
    expect(run.steps[3]).toMatchObject({ response: 2, serialization: { messageType: 7, password: TYPED } });
    const ops = requests();
    expect(ops.map((r) => r.op)).toEqual(['status', 'status', 'credential-capture']);
    expect(ops[2]).toMatchObject({ password: TYPED, user: ops[1]!.user });
  });

  it('a password LSA refused never reaches the agent', () => {
    script({ status: USABLE, 'credential-capture': { status: 'ok' } });
    const run = withPassword('pin=wrong', 'serialize', 'report=0xC000006D');
    expect(run.steps[4]).toMatchObject({ response: 2 });
    expect(last(run)).toMatchObject({ text: '' }); // LogonUI says why itself
    expect(requests()).toEqual([]);
  });
});

describe('an offline PIN', () => {
  it('accepted at the lock screen: KERB_INTERACTIVE_UNLOCK_LOGON (Negotiate) with the name, domain and password the agent handed back', () => {
    script({
      status: USABLE,
      verify: {
        status: 'accepted',
        reason: 'wrong-pin',
        message: 'Unlocked \u2014 4 offline PINs left.',
        remaining: 4,
        credential: ALICE,
      },
    });
    const run = harness('unlock', 'select', 'pin=K7QM-2XHD', 'serialize');
    expect(run.steps[0]).toMatchObject({
      status: '',
      fields: { pin: { interactive: 'focused' }, phone: { state: 'hidden' } },
    });
    expect(last(run)).toMatchObject({
      response: 2,
      text: '',
      serialization: { provider: PROVIDER_CLSID, messageType: 7, ...ALICE },
    });
    // selecting the tile asked status; the PIN went on a connection of its own, bound by its own status
    const ops = requests();
    expect(ops.map((r) => r.op)).toEqual(['status', 'status', 'verify']);
    expect(ops[1]).toMatchObject({ op: 'status', lockScreen: true });
    expect(ops[2]).toMatchObject({ op: 'verify', pin: 'K7QM-2XHD', context: 'cp:unlock', user: ops[1]!.user });
    expect(String(ops[1]!.user)).toMatch(/^[^\\]+\\[^\\]+$/); // DOMAIN\name of the locked session
  });

  it('accepted at logon: KerbInteractiveLogon for the name typed on the tile', () => {
    script({ status: USABLE, verify: { status: 'accepted', message: 'Unlocked.', credential: ALICE } });
    const run = harness('logon', 'select', 'user=DESK-042\\alice', 'pin=K7QM2XHD', 'serialize');
    expect(last(run)).toMatchObject({ response: 2, serialization: { messageType: 2, ...ALICE } });
    expect(requests()[1]).toMatchObject({ op: 'verify', user: 'DESK-042\\alice', context: 'cp:logon' });
  });

  it.each([
    ['rejected (a wrong or replayed PIN)', { status: 'rejected', reason: 'wrong-pin', message: SAY.wrong }, SAY.wrong],
    [
      'locked (the anti-hammering ladder)',
      {
        status: 'locked',
        reason: 'hammering-delay',
        retryAfter: 300,
        message: 'Too many attempts \u2014 try again in 5 minutes.',
      },
      'Too many attempts \u2014 try again in 5 minutes.',
    ],
    [
      'unavailable (a state fault)',
      {
        status: 'unavailable',
        reason: 'state-unreadable',
        message: 'Offline PINs are unavailable right now \u2014 use your password.',
      },
      SAY.fallback,
    ],
    ['rejected without a sentence', { status: 'rejected', reason: 'wrong-pin' }, SAY.wrong],
  ])("%s: no serialization, and the agent's sentence", (_name, verify, sentence) => {
    script({ status: USABLE, verify });
    const run = harness('unlock', 'select', 'pin=K7QM2XHD', 'serialize');
    expect(last(run)).toMatchObject({ response: 0, icon: 1, text: sentence, serialization: null });
  });

  it.each([
    ['no credential in it', { status: 'accepted', message: 'Unlocked.' }],
    ['a malformed credential', { status: 'accepted', secretHex: '0100044400' }],
    ["another request's id", { status: 'accepted', credential: ALICE, wrongRequestId: true }],
  ])('an accepted reply with %s signs nobody in', (_name, verify) => {
    script({ status: USABLE, verify });
    expect(last(harness('unlock', 'select', 'pin=K7QM2XHD', 'serialize'))).toMatchObject({
      response: 0,
      text: SAY.noCredential,
      serialization: null,
    });
  });

  it('a PIN longer than any PIN can be is refused without asking the agent', () => {
    script({ status: USABLE, verify: { status: 'accepted', credential: ALICE } });
    const run = harness('unlock', 'select', `pin=${'A'.repeat(65)}`, 'serialize');
    expect(last(run)).toMatchObject({ response: 0, text: SAY.wrong, serialization: null });
    expect(requests().map((r) => r.op)).toEqual(['status']);
  });

  it("a locked user sees the ladder's sentence at once and no PIN field", () => {
    script({
      status: {
        status: 'ok',
        offlineMode: true,
        usable: true,
        locked: true,
        retryAfter: 60,
        reason: 'hammering-delay',
        message: 'Too many attempts \u2014 try again in 1 minute.',
      },
    });
    const run = harness('unlock', 'select');
    expect(run.steps[0]).toMatchObject({
      status: 'Too many attempts \u2014 try again in 1 minute.',
      fields: { pin: { interactive: 'disabled' } },
    });
  });
});

describe('the phone (docs/pam.md "push=")', () => {
  it('Push=ask: "Approve on my phone" asks over Bluetooth, then LogonUI is told and logs on at once', () => {
    script({
      status: { ...USABLE, ble: true },
      'ble-auth': { status: 'accepted', message: 'Unlocked.', credential: ALICE },
    });
    const run = harness('unlock', 'select', 'phone', 'wait=20000', 'serialize');
    expect(run.steps[0]).toMatchObject({
      status: SAY.ask,
      fields: { phone: { state: 'selected' }, pin: { interactive: 'focused' } },
    });
    expect(run.steps[1]).toMatchObject({ said: SAY.approve });
    expect(run.steps[2]).toMatchObject({ changed: 1, autoLogon: 1 });
    expect(last(run)).toMatchObject({ response: 2, serialization: { messageType: 7, ...ALICE } });
    expect(requests().map((r) => [r.op, r.wait])).toEqual([
      ['status', undefined],
      ['status', undefined],
      ['ble-auth', 5000],
    ]);
  });

  it('Push=ask: Enter with no PIN asks the phone; a declined approval leaves the PIN field and says so', () => {
    script({
      status: { ...USABLE, online: true },
      'online-auth': { status: 'rejected', reason: 'denied', message: 'The sign-in was denied on your phone.' },
    });
    const run = harness('unlock', 'select', 'serialize', 'wait=30000', 'status');
    expect(run.steps[1]).toMatchObject({ response: 0, text: SAY.approve, icon: 0 });
    expect(run.steps[2]).toMatchObject({ changed: 1, autoLogon: 0, status: 'The sign-in was denied on your phone.' });
    expect(last(run).fields!.pin!.interactive).toBe('focused');
  });

  it('Push=auto with a phone that never answers: the PIN field and the reason after 5 s (R3), then a PIN works', () => {
    option('Push', 'auto');
    try {
      script({
        status: { ...USABLE, ble: true, online: true },
        'ble-auth': {
          status: 'unavailable',
          reason: 'timeout',
          delayMs: 'wait',
          message: 'No answer from your phone over Bluetooth \u2014 type an offline PIN or your password.',
        },
        'online-auth': {
          status: 'unavailable',
          reason: 'timeout',
          delayMs: 'wait',
          message: 'No answer from your phone \u2014 type an offline PIN or your password.',
        },
        verify: { status: 'accepted', credential: ALICE },
      });
      const run = harness('unlock', 'select', 'wait=30000', 'pin=K7QM2XHD', 'serialize');
      expect(run.steps[0]).toMatchObject({ status: SAY.approve });
      expect(run.steps[1]).toMatchObject({
        changed: 1,
        autoLogon: 0,
        status: 'No answer from your phone \u2014 type an offline PIN or your password.',
      });
      expect(run.steps[1]!.afterMs).toBeGreaterThanOrEqual(4_500); // the phone had its 5 s, no less
      const waits = Object.fromEntries(
        requests()
          .filter((r) => r.op !== 'status' && r.op !== 'verify')
          .map((r) => [r.op, r.wait as number]),
      );
      expect(waits['ble-auth']).toBe(2500);
      expect(waits['online-auth']).toBeLessThanOrEqual(2500);
      expect(last(run)).toMatchObject({ response: 2, serialization: ALICE });
    } finally {
      option('Push', undefined);
    }
  }, 60_000);

  it('at logon the phone needs a user name first', () => {
    script({ status: { ...USABLE, ble: true } });
    expect(harness('logon', 'select', 'phone').steps[1]).toMatchObject({ said: SAY.typeUser });
  });
});

describe('when the agent cannot answer, the password stays', () => {
  it('no agent: the fallback, the PIN field disabled, no serialization', async () => {
    await stopAgentService();
    try {
      const run = harness('unlock', 'select', 'pin=K7QM2XHD', 'serialize');
      expect(run.steps[0]).toMatchObject({ status: SAY.fallback, fields: { pin: { interactive: 'disabled' } } });
      expect(last(run)).toMatchObject({ response: 0, text: SAY.fallback, serialization: null });
      // "Sign in with my password" still works on this tile; only the capture after it has nobody to go to.
      const typed = harness('unlock', 'select', 'password', 'status', 'pin=typed 42', 'serialize', 'report=0');
      expect(typed.steps[2]!.fields).toMatchObject({ pin: { interactive: 'focused' } });
      expect(typed.steps[4]).toMatchObject({ response: 2, serialization: { messageType: 7, password: 'typed 42' } });
      expect(last(typed)).toMatchObject({ hr: 0, text: '' });
    } finally {
      await startAgentService();
    }
  }, 120_000);

  it('a pipe server the service did not start (a squatter) is refused before a byte is sent', async () => {
    await stopAgentService();
    const rogue = join(work, 'rogue');
    mkdirSync(rogue, { recursive: true });
    const f = {
      script: join(rogue, 'script.json'),
      requests: join(rogue, 'requests.log'),
      ready: join(rogue, 'ready'),
    };
    writeFileSync(f.script, JSON.stringify({ status: USABLE, verify: { status: 'accepted', credential: ALICE } }));
    const squatter = wine.start([nodeExe(), ...standIn(f)], join(rogue, 'out.log'));
    try {
      await waitFor('the squatter on the pipe', () => existsSync(f.ready), 60_000);
      const run = harness('unlock', 'select', 'pin=K7QM2XHD', 'serialize');
      expect(last(run)).toMatchObject({ response: 0, text: SAY.fallback, serialization: null });
      expect(existsSync(f.requests)).toBe(false); // neither the user's name nor the PIN reached it
    } finally {
      await wine.stop(squatter);
      await startAgentService();
    }
  }, 120_000);

  it("the service's own child running as another account than AgentAccount is refused too", () => {
    script({ status: USABLE, verify: { status: 'accepted', credential: ALICE } });
    option('AgentAccount', 'S-1-5-18'); // SYSTEM: under wine the service runs as the user
    try {
      expect(last(harness('unlock', 'select', 'pin=K7QM2XHD', 'serialize'))).toMatchObject({
        response: 0,
        text: SAY.fallback,
        serialization: null,
      });
      expect(existsSync(files().requests)).toBe(false);
    } finally {
      option('AgentAccount', wine.sid(join(build, 'cp-harness.exe')));
    }
  });

  it('options it cannot use disable the tile and say so; nothing is asked', () => {
    script({ status: USABLE, verify: { status: 'accepted', credential: ALICE } });
    option('TimeoutMs', 0);
    try {
      const run = harness('unlock', 'select', 'pin=K7QM2XHD', 'serialize');
      expect(run.steps[0]).toMatchObject({ status: SAY.badOptions, fields: { pin: { interactive: 'disabled' } } });
      expect(last(run)).toMatchObject({ response: 0, text: SAY.badOptions, serialization: null });
      expect(existsSync(files().requests)).toBe(false);
    } finally {
      option('TimeoutMs', undefined);
    }
  });

  it('Windows refusing the handed-back password is said on the tile', () => {
    expect(last(harness('unlock', 'report=0xC000006D'))).toMatchObject({ icon: 1, text: SAY.stale });
  });
});

describe('a handed-back password Windows refused (docs/windows.md §6.6, docs/ipc.md op 16)', () => {
  const accepted = { status: 'accepted', message: 'Unlocked.', remaining: 4, credential: ALICE, generation: 3 };

  it('ReportResult failing after a handed-back credential tells the agent which capture it was', () => {
    script({ status: USABLE, verify: accepted, 'credential-refused': { status: 'ok', stale: true } });
    const run = harness('logon', 'select', 'user=DESK-042\\alice', 'pin=K7QM2XHD', 'serialize', 'report=0xC000006D');
    expect(run.steps[3]).toMatchObject({ response: 2, serialization: { messageType: 2, ...ALICE } });
    expect(last(run)).toMatchObject({ icon: 1, text: SAY.stale });
    // The PIN's connection, then one lock-screen connection of its own: status, credential-refused.
    const ops = requests();
    expect(ops.map((r) => r.op)).toEqual(['status', 'verify', 'status', 'credential-refused']);
    expect(ops[2]).toMatchObject({ lockScreen: true, user: 'DESK-042\\alice' });
    expect(ops[3]).toMatchObject({ user: 'DESK-042\\alice', generation: 3 });
  });

  it('the same after a phone approved at the lock screen', () => {
    script({
      status: { ...USABLE, online: true },
      'online-auth': { ...accepted, generation: 7 },
      'credential-refused': { status: 'ok', stale: true },
    });
    const run = harness('unlock', 'select', 'phone', 'wait=30000', 'serialize', 'report=0xC000006D');
    expect(run.steps.at(-2)).toMatchObject({ response: 2, serialization: { messageType: 7, ...ALICE } });
    expect(last(run)).toMatchObject({ icon: 1, text: SAY.stale });
    const refused = requests().filter((r) => r.op === 'credential-refused');
    expect(refused).toEqual([expect.objectContaining({ generation: 7 })]);
  });

  it('nothing is reported when LSA accepts it, or when the password was typed', () => {
    script({ status: USABLE, verify: accepted, 'credential-capture': { status: 'ok' } });
    harness('unlock', 'select', 'pin=K7QM2XHD', 'serialize', 'report=0');
    withPassword('pin=wrong', 'serialize', 'report=0xC000006D');
    expect(requests().map((r) => r.op)).toEqual(['status', 'status', 'verify']);
  });

  it('while the agent says the saved password is stale, the tile says so — on selection and after an accepted PIN', () => {
    script({
      status: { ...USABLE, stale: true, message: SAY.stale },
      verify: { status: 'accepted', stale: true, message: SAY.stale, remaining: 3 },
    });
    const run = harness('unlock', 'select', 'pin=K7QM2XHD', 'serialize');
    expect(run.steps[0]).toMatchObject({
      status: SAY.stale,
      fields: { pin: { interactive: 'focused' }, passwordLink: { state: 'selected' } },
    });
    expect(last(run)).toMatchObject({ response: 0, icon: 1, text: SAY.stale, serialization: null });
  });
});
