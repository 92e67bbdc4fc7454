/**
 * The real agent on Windows, under wine (docs/windows.md §10, §11): node.exe runs the staged app
 * (dist and its production dependencies with their win32 prebuilds) as the service LatchkeyAgent
 * through the real service wrapper, with its defaults in the ProgramData known folder. The real
 * CLI enrolls the prefix's user over \\.\pipe\latchkey-agent, and cp-harness.exe walks the
 * provider's tile against that agent: PINs accepted, replayed, wrong, locked out, and the agent
 * stopped. What wine cannot prove (one user for every process, no pipe or file ACLs, LogonUserW
 * and DPAPI as stubs) is listed in docs/windows.md §10.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Phone } from '../helpers/agent-harness.js';
import { type HarnessStep, RealAgent, filesUnder } from './helpers/real-agent.js';
import { ROOT, waitFor, windowsPath } from './helpers/wine.js';
import { stopAfterAll } from '../helpers/stop-after-all.js';

const SAY = {
  fallback: 'Offline PINs are unavailable right now \u2014 use your password.',
  wrong: "That PIN didn't work \u2014 type the next offline PIN from your phone.",
  noCredential: 'Latchkey could not sign you in to Windows \u2014 use your password.',
};
const POOL = 10;

let agent: RealAgent;
let phone: Phone;
/** Every pool enrolled here, for the search of the state directory. */
const phones: Phone[] = [];

/** The user's Windows password as the test knows it (wine's LogonUserW accepts any: docs/windows.md §10). */
const PASSWORD = 'correct horse \u2603 battery';

/** The tile at the sign-in screen for the prefix's user, walked through `steps`: its last step. */
function tile(...steps: string[]): HarnessStep {
  return agent.harness('logon', 'select', `user=${agent.user}`, ...steps).at(-1)!;
}

/** `latchkey enroll --windows-password` (the password on standard input): the phone's side of the pool. */
function enrollWithPassword(account: string): Phone {
  const out = agent.latchkey(['enroll', '--user', account, '--windows-password'], { stdin: `${PASSWORD}\n` }).stdout;
  const uri = /latchkey:\/\/offline-pins\?\S+/.exec(out)?.[0];
  expect(uri, out).toBeDefined();
  const enrolled = new Phone(Buffer.from(uri!));
  phones.push(enrolled);
  return enrolled;
}

function remaining(): number {
  const out = agent.latchkey(['status', '--user', agent.user]).stdout;
  return Number(/(\d+) offline PINs? left/.exec(out)?.[1] ?? Number.NaN);
}

const suite = stopAfterAll();
beforeAll(async () => {
  // the agent's config where it looks by default (%ProgramData%\Latchkey\agent.json); the cheapest KDF
  agent = suite.stop(
    await RealAgent.start({
      policy: { offlineMode: true, pinCount: POOL, pinLength: 8 },
      kdf: { memoryKiB: 8, iterations: 1 },
    }),
    (started) => started.destroy(),
  );
}, 600_000);

describe('the agent as the service LatchkeyAgent', () => {
  it('listens on \\\\.\\pipe\\latchkey-agent with its files under the ProgramData known folder, the host key under DPAPI', () => {
    const ready = agent.wine
      .readText(agent.serviceLog)
      .split('\n')
      .find((line) => line.includes('agent.ready'))!;
    expect(ready).toContain('socket="\\\\\\\\.\\\\pipe\\\\latchkey-agent"');
    expect(ready).toContain('stateDir="C:\\\\ProgramData\\\\Latchkey\\\\state"');
    expect(ready).toContain('config="C:\\\\ProgramData\\\\Latchkey\\\\agent.json"');
    expect(ready).toContain('host key protected by DPAPI, machine scope');
    expect(agent.wine.serviceState('LatchkeyAgent')).toBe('RUNNING');
  });

  it('enrolls the prefix user with the real CLI over the pipe, with the password; the caller is known by its SID', () => {
    phone = enrollWithPassword(agent.user);
    expect(remaining()).toBe(POOL);
    expect(agent.wine.readText(agent.serviceLog)).toMatch(/ipc\.connection peerUid=S-1-5-21-[\d-]+ peerPid=\d+/);
    // the host key is a DPAPI blob, not the 32 bytes themselves
    expect(statSync(join(agent.dataDir, 'state', 'keystore', 'host.key')).size).toBeGreaterThan(100);
  }, 120_000);

  it('serves several clients at once while another holds a connection and says nothing', () => {
    const run = agent.wine.run([
      agent.node,
      windowsPath(join(ROOT, 'test', 'windows', 'pipe-clients.mjs')),
      '\\\\.\\pipe\\latchkey-agent',
      agent.user,
      '6',
      windowsPath(join(ROOT, 'dist', 'protocol')),
    ]);
    const result = JSON.parse(run.stdout) as {
      connected: number;
      silentOpen: boolean;
      replies: { status: string; requestId: number; index: number }[];
    };
    expect(result.connected).toBe(6);
    expect(result.silentOpen).toBe(true);
    expect(result.replies.map((reply) => [reply.status, reply.requestId])).toEqual(
      Array.from({ length: 6 }, (_, index) => ['ok', 100 + index]),
    );
  }, 120_000);

  it("a second agent cannot take the pipe's name: it refuses to start (exit 78)", () => {
    const second = agent.latchkey(['agent', '--state-dir', 'C:\\latchkey-second'], { allowFailure: true });
    expect(second.status).toBe(78);
    expect(second.stderr).toMatch(/another process already holds the pipe \\\\\.\\pipe\\latchkey-agent/);
  }, 120_000);
  it('a second agent on the same state directory is refused by its lock (LockFileEx)', () => {
    const second = agent.latchkey(['agent', '--socket', '\\\\.\\pipe\\latchkey-second'], { allowFailure: true });
    expect(second.status).toBe(1);
    expect(second.stderr).toContain('another Latchkey agent is using C:\\ProgramData\\Latchkey\\state');
  }, 120_000);
});

describe('the tile against the real agent', () => {
  it("a valid offline PIN signs in: KERB_INTERACTIVE_UNLOCK_LOGON with the user's name, domain and password", () => {
    const step = tile(`pin=${phone.pin(0)}`, 'serialize');
    expect(step).toMatchObject({
      response: 2,
      text: '',
      serialization: { messageType: 2, user: agent.user, password: PASSWORD },
    });
    // the domain the agent hands back for a local account is the computer's name
    expect(step.serialization!.domain).toBe(agent.computer);
    expect(remaining()).toBe(POOL - 1);
  }, 120_000);

  it('at the unlock screen, for the session account DOMAIN\\name: KerbWorkstationUnlockLogon with the password', () => {
    // The tile names a locked session's account DOMAIN\name; the agent keeps state per name as given
    // (docs/windows.md §3), so that spelling is enrolled on its own.
    const session = enrollWithPassword(`${agent.computer}\\${agent.user}`);
    const step = agent.harness('unlock', 'select', `pin=${session.pin(0)}`, 'serialize').at(-1)!;
    expect(step).toMatchObject({
      response: 2,
      serialization: { messageType: 7, domain: agent.computer, user: agent.user, password: PASSWORD },
    });
  }, 120_000);

  it("its replay and a wrong PIN are refused with the agent's sentence", () => {
    expect(tile(`pin=${phone.pin(0)}`, 'serialize')).toMatchObject({
      response: 0,
      text: SAY.wrong,
      serialization: null,
    });
    expect(tile('pin=ZZZZ-ZZZZ', 'serialize')).toMatchObject({ response: 0, text: SAY.wrong, serialization: null });
    expect(remaining()).toBe(POOL - 1);
  }, 120_000);

  it("repeated wrong PINs reach the lockout ladder's message", () => {
    let step: HarnessStep | undefined;
    // distinct wrong PINs: the same wrong PIN counts once (docs/state-files.md "Anti-hammering")
    for (let attempt = 10; attempt < 30; attempt++) {
      step = tile(`pin=ZZZZ-ZZ${attempt}`, 'serialize');
      if (/Too many attempts/.test(step.text ?? '')) break;
    }
    expect(step).toMatchObject({ response: 0, serialization: null });
    expect(step!.text).toMatch(/Too many attempts \u2014 try again in \d+ (seconds?|minutes?)\./);
    // a valid PIN does not get through the delay either
    expect(tile(`pin=${phone.pin(1)}`, 'serialize').serialization).toBeNull();
  }, 300_000);

  it('the state directory holds no PIN and no password in clear', () => {
    const pins = phones.flatMap((enrolled) => Array.from({ length: POOL }, (_, counter) => enrolled.pin(counter)));
    const forms = [...pins.flatMap((pin) => [pin, pin.replaceAll('-', '')]), PASSWORD, 'correct horse'];
    const files = filesUnder(agent.dataDir);
    expect(files.length).toBeGreaterThan(3);
    for (const file of [...files, agent.serviceLog]) {
      const bytes = readFileSync(file);
      for (const form of forms) {
        expect(bytes.includes(Buffer.from(form, 'utf8')), `${form} in ${file}`).toBe(false);
        expect(bytes.includes(Buffer.from(form, 'utf16le')), `${form} in ${file}`).toBe(false);
      }
    }
  });

  it('with the agent stopped (the wrapper closes its standard input), the fallback sentence and no serialization', async () => {
    agent.wine.sc(['stop', 'LatchkeyAgent'], true);
    await waitFor('LatchkeyAgent to stop', () => agent.wine.serviceState('LatchkeyAgent') === 'STOPPED', 60_000);
    // the agent stopped on its own, cleanly: the wrapper did not have to end it after 10 s
    const log = agent.wine.readText(agent.serviceLog);
    expect(log).toMatch(/agent\.stopping signal="?stdin-closed/);
    expect(log).not.toContain('did not stop within');
    const step = tile(`pin=${phone.pin(2)}`, 'serialize');
    expect(step).toMatchObject({ response: 0, text: SAY.fallback, serialization: null });
  }, 120_000);
});
