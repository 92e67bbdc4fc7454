/**
 * `latchkey phone` as a process (the built CLI) against the real Control Center on loopback:
 * what the screen prints and the exit codes of docs/phone.md, one person's day from pairing to
 * running out of PINs. The workstation side is driven by the real protocol functions.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCc, type TestCc, putSettings } from '../control-center/helpers.js';
import { makeTempDir } from '../helpers/agent-harness.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import { CcWorkstation, workstationPin } from './helpers/cc-workstation.js';

const PASS = 'correct horse battery staple';
let t: TestCc;
let ws: CcWorkstation;
let home: string;
const outputs: CliResult[] = [];
const secrets: string[] = [PASS];

beforeAll(async () => {
  t = await startTestCc();
  await putSettings(t, { offlineMode: true, pinCount: 10, lowPinWarnPercent: 30 });
  ws = await CcWorkstation.enroll(t, 'build-box');
  home = path.join(await makeTempDir('latchkey-phone-cli-'), 'phone');
});
afterAll(async () => {
  await t?.close();
});

async function phone(args: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  const result = await runCli(['phone', '--home', home, ...args], {
    env: { LATCHKEY_PHONE_PASSPHRASE: PASS, ...options.env },
    ...(options.input === undefined ? {} : { input: options.input }),
  });
  outputs.push(result);
  return result;
}

describe('latchkey phone', () => {
  let deviceId = '';
  let seed: Uint8Array;

  it('init makes a private vault; --help works everywhere', async () => {
    expect(await phone(['init', '--name', 'Ana’s phone'])).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('set up in'),
    });
    expect((await fs.stat(home)).mode & 0o777).toBe(0o700);
    expect((await fs.stat(path.join(home, 'vault.json'))).mode & 0o777).toBe(0o600);
    expect(await phone(['init'])).toMatchObject({ code: 4, stderr: expect.stringContaining('vault-exists') });
    for (const command of ['init', 'pair', 'status', 'tap', 'long-press', 'serve', 'approve', 'deny', 'unpair']) {
      expect(await phone([command, '--help'])).toMatchObject({
        code: 0,
        stdout: expect.stringContaining('Usage: latchkey phone'),
      });
    }
  });

  it('pair reads the code from stdin; status shows the workstation waiting for a first sign-in (R2, R6)', async () => {
    const { code, accept } = await ws.pairingCode('ana');
    secrets.push(code, code.replace(/-/g, '').slice(5));
    const [paired, id] = await Promise.all([phone(['pair', '--url', t.url], { input: `${code}\n` }), accept()]);
    deviceId = id;
    expect(paired).toMatchObject({ code: 0, stdout: expect.stringContaining('Paired with build-box as ana') });
    const status = await phone(['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('build-box (ana)');
    expect(status.stdout).toContain('Offline PINs appear after your first online sign-in at this workstation.');
    expect(status.stdout).not.toContain('No internet');
  });

  it('a tap nobody answers waits 5 s and offers no offline PIN before a sign-in (R3 with R2/R6)', async () => {
    const started = Date.now();
    const tap = await phone(['tap', 'build-box']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(5000);
    expect(tap).toMatchObject({
      code: 2,
      stdout: expect.stringContaining("build-box didn't answer within 5 seconds."),
    });
    expect(tap.stdout).toContain('Offline PINs appear after your first online sign-in');
  });

  it('serve approves a sign-in the workstation verifies, then imports and confirms the pool (R9)', async () => {
    const request = await ws.createAuthRequest('ana');
    const served = await phone(['serve', '--once', '--auto-approve', '--timeout', '5']);
    expect(served).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('Approved the sign-in at build-box for ana.'),
    });
    expect(await ws.approvedByPhone('ana', request)).toBe(true);
    const pool = await ws.deliverPool('ana', deviceId, { count: 10 });
    seed = pool.seed;
    secrets.push(pool.contents.seed);
    expect(await phone(['serve', '--once', '--timeout', '5'])).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('10 new offline PINs for build-box (ana).'),
    });
    expect(await ws.confirmedByPhone('ana', deviceId, pool.contents.deliveryId)).toBe(true);
  });

  it('long press shows the next PIN, the one the workstation derives (R5, R7)', async () => {
    const shown = await phone(['long-press', ws.id]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`  ${workstationPin(seed, 0)}\n`);
    expect(shown.stdout).toContain("Type it at build-box's login or lock screen.");
    expect(shown.stdout).toContain('9 offline PINs left.');
  });

  it('--offer-only stops at R3’s offer without using a PIN; a tap then shows PIN 2', async () => {
    const offered = await phone(['tap', 'build-box', '--offer-only']);
    expect(offered).toMatchObject({ code: 6, stdout: expect.stringContaining('Use an offline PIN instead') });
    expect((await phone(['--offline', 'tap', 'build-box'])).stdout).toContain(`  ${workstationPin(seed, 1)}\n`);
  });

  it('no internet: the banner on the main screen and a tap goes straight to the PIN (R4)', async () => {
    const status = await phone(['--offline', 'status']);
    expect(status.stdout).toContain('No internet connection — tap a workstation to get an offline PIN.');
    expect(status.stdout).toContain('8 offline PINs left.');
    const started = Date.now();
    const tap = await phone(['--offline', 'tap', 'build-box']);
    expect(Date.now() - started).toBeLessThan(4000);
    expect(tap).toMatchObject({ code: 0, stdout: expect.stringContaining(`  ${workstationPin(seed, 2)}\n`) });
  });

  it('warns when low (R8) and shows an error when all are used (R10)', async () => {
    const lines = [];
    for (let c = 3; c < 10; c++) lines.push((await phone(['long-press', 'build-box'])).stdout);
    expect(lines[3]).toContain('3 offline PINs left — sign in once online to get more.');
    expect(lines[6]).toContain('That was your last offline PIN — sign in once online to get new ones.');
    expect(lines[6]).toContain(`  ${workstationPin(seed, 9)}\n`);
    expect(await phone(['long-press', 'build-box'])).toMatchObject({
      code: 2,
      stdout: expect.stringContaining('Error: No offline PINs left — sign in once online to get new ones.'),
    });
    expect((await phone(['status'])).stdout).toContain('Error: No offline PINs left');
  });

  it('a tap answered by the workstation is approved and replenishes (R9)', async () => {
    let fresh: Uint8Array | undefined;
    const stop = ws.answerIntents((user, request) => {
      void ws.approvedByPhone(user, request).then(async (ok) => {
        if (!ok) return;
        const pool = await ws.deliverPool(user, deviceId, { count: 10 });
        secrets.push(pool.contents.seed);
        fresh = pool.seed;
      });
    });
    try {
      const tap = await phone(['tap', 'build-box']);
      expect(tap).toMatchObject({
        code: 0,
        stdout: expect.stringContaining('Approved — build-box is signing ana in.'),
      });
      expect(tap.stdout).toContain('New offline PINs arrived.');
    } finally {
      stop();
    }
    expect((await phone(['long-press', 'build-box'])).stdout).toContain(`  ${workstationPin(fresh!, 0)}\n`);
  });

  it('approve/deny a waiting request by id; an unknown one is an error', async () => {
    // Earlier taps left intents the workstation answered late; name the request.
    const request = await ws.createAuthRequest('ana');
    expect(await phone(['deny', request.requestId])).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('Denied the sign-in at build-box for ana.'),
    });
    expect(await ws.approvedByPhone('ana', request)).toBe(false);
    expect(await phone(['approve', request.requestId])).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('(unknown-request)'),
    });
  });

  it('a wrong passphrase or a passphrase file others can read is exit 4', async () => {
    expect(await phone(['status'], { env: { LATCHKEY_PHONE_PASSPHRASE: 'not the passphrase' } })).toMatchObject({
      code: 4,
      stderr: expect.stringContaining('vault-wrong-passphrase'),
    });
    const file = path.join(path.dirname(home), 'pass');
    await fs.writeFile(file, `${PASS}\n`, { mode: 0o644 });
    expect(
      await phone(['--passphrase-file', file, 'status'], { env: { LATCHKEY_PHONE_PASSPHRASE: '' } }),
    ).toMatchObject({ code: 4, stderr: expect.stringContaining('vault-permissions') });
    await fs.chmod(file, 0o600);
    expect(
      await phone(['--passphrase-file', file, 'status'], { env: { LATCHKEY_PHONE_PASSPHRASE: '' } }),
    ).toMatchObject({ code: 0 });
  });

  it('unpair forgets the workstation; a bad code is exit 5; an unknown workstation exit 1', async () => {
    expect(await phone(['unpair', 'build-box'])).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('Forgot build-box (ana)'),
    });
    expect(await phone(['long-press', 'build-box'])).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('unknown-workstation'),
    });
    expect(await phone(['pair', 'ABCDE-1234', '--url', t.url])).toMatchObject({
      code: 5,
      stderr: expect.stringContaining('bad-pairing-code'),
    });
    expect(await phone(['tap'])).toMatchObject({ code: 64 });
  });

  it('no passphrase, seed or pairing secret ever reaches stderr, and stdout only ever shows PINs', () => {
    for (const { stdout, stderr } of outputs) {
      for (const secret of secrets) {
        expect(stderr).not.toContain(secret);
        expect(stdout).not.toContain(secret);
      }
    }
  });
});
