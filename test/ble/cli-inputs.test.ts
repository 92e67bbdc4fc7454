// What the Bluetooth commands accept: transport specs, pairing files, options (the real CLI).
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPairingFile } from '../../ble/pairing-file.js';
import { parseTransport } from '../../ble/transport-spec.js';
import { runCli } from '../helpers/run-cli.js';
import { ensureBuilt } from './processes.js';

const dir = mkdtempSync(join(tmpdir(), 'latchkey-ble-cli-'));
beforeAll(() => ensureBuilt(), 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('transport specs (docs/ble-dongles.md)', () => {
  it('names a kernel adapter, a UART, or a USB dongle', () => {
    expect(parseTransport('hci:0')).toEqual({ kind: 'hci', deviceId: 0, userChannel: false });
    expect(parseTransport('hci-user:1')).toEqual({ kind: 'hci', deviceId: 1, userChannel: true });
    expect(parseTransport('uart:/dev/ttyACM0')).toEqual({ kind: 'uart', path: '/dev/ttyACM0' });
    expect(parseTransport('uart:/dev/ttyUSB0@115200')).toEqual({
      kind: 'uart',
      path: '/dev/ttyUSB0',
      baudRate: 115200,
    });
    // a Windows COM port by name, or as its device (a dongle's, or one wine maps to a pty)
    expect(parseTransport('uart:COM5')).toEqual({ kind: 'uart', path: 'COM5' });
    expect(parseTransport('uart:\\\\.\\COM12@115200')).toEqual({
      kind: 'uart',
      path: '\\\\.\\COM12',
      baudRate: 115200,
    });
    expect(parseTransport('usb:0a12:0001')).toEqual({ kind: 'usb', vid: 0x0a12, pid: 0x0001 });
    expect(parseTransport('usb:0x0bda:0x8771:1:7')).toEqual({
      kind: 'usb',
      vid: 0x0bda,
      pid: 0x8771,
      bus: 1,
      address: 7,
    });
  });

  it('refuses anything else with a sentence that shows the right form', () => {
    for (const bad of [
      'hci:',
      'hci:x',
      'uart:ttyUSB0',
      'uart:COM0',
      'uart:COM257',
      'uart:COM5x',
      'uart:/dev/x@fast',
      'usb:0a12',
      'usb:zz:01',
      'bt:0',
      '',
    ])
      expect(() => parseTransport(bad)).toThrow(RangeError);
  });
});

describe('pairing files', () => {
  it('round-trips through dev-pairing, and is refused when group or others can read it', async () => {
    const ws = join(dir, 'ws.json');
    const phone = join(dir, 'phone.json');
    const made = await runCli(['ble', 'dev-pairing', '--workstation', ws, '--phone', phone]);
    expect(made.code, made.stderr).toBe(0);
    const w = readPairingFile(ws);
    const p = readPairingFile(phone);
    expect(
      'workstationIdentity' in w &&
        'phoneIdentity' in p &&
        Buffer.from(w.phonePublicKey).equals(Buffer.from(p.phoneIdentity.publicKey)),
    ).toBe(true);
    chmodSync(ws, 0o640);
    expect(() => readPairingFile(ws)).toThrow(/chmod 600/);
    expect(
      (await runCli(['ble', 'dev-pairing', '--workstation', ws, '--phone', join(dir, 'other.json')])).code,
    ).not.toBe(0);
  });

  it('names the bad field', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({
        role: 'phone',
        id: 'x',
        pairingKey: 'zz',
        identityPrivateKey: '00'.repeat(32),
        peerPublicKey: '00'.repeat(32),
      }),
      { mode: 0o600 },
    );
    expect(() => readPairingFile(bad)).toThrow(/pairingKey must be 64 hex digits/);
  });
});

describe("pairing-file errors: one latchkey: line, exit 2 for the ble tools and 4 (the vault's) for the phone (docs/cli.md, docs/phone.md)", () => {
  const oneLine = (stderr: string) => {
    expect(stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(stderr).toMatch(/^latchkey: /);
  };

  it('a file that group or others can read exits 2 and says chmod 600', async () => {
    const ws = join(dir, 'open-ws.json');
    const phone = join(dir, 'open-phone.json');
    expect((await runCli(['ble', 'dev-pairing', '--workstation', ws, '--phone', phone])).code).toBe(0);
    chmodSync(ws, 0o644);
    for (const command of [
      ['test', '--count', '1'],
      ['scan', '--seconds', '1'],
    ]) {
      const run = await runCli(['ble', ...command, '--uart', '/dev/null', '--pairing', ws]);
      expect(run.code, run.stderr).toBe(2);
      oneLine(run.stderr);
      expect(run.stderr).toContain(`${ws} holds secrets and must not be readable by group or others (chmod 600)`);
    }
    chmodSync(phone, 0o644);
    const served = await runCli(['phone', 'ble', 'serve', '--uart', '/dev/null', '--pairing', phone]);
    expect(served.code).toBe(4);
    oneLine(served.stderr);
    expect(served.stderr).toContain('chmod 600');
  });

  it('a missing file is one sentence that names it and how to make one, never a raw ENOENT', async () => {
    const missing = join(dir, 'no-such-pairing.json');
    const run = await runCli(['ble', 'test', '--uart', '/dev/null', '--pairing', missing]);
    expect(run.code).toBe(2);
    oneLine(run.stderr);
    expect(run.stderr).toBe(
      `latchkey: the pairing file ${missing} does not exist: check the path, or write a pair with "latchkey ble dev-pairing" (docs/ble-dongles.md "Pairing")\n`,
    );
    const served = await runCli(['phone', 'ble', 'serve', '--uart', '/dev/null', '--pairing', missing]);
    expect(served.code).toBe(4);
    oneLine(served.stderr);
    expect(`${served.stdout}${served.stderr}`).not.toMatch(/ENOENT|\n\s+at /);
  });

  it('a file that is not JSON, or the other side of the pairing, is refused without quoting it', async () => {
    const garbled = join(dir, 'garbled.json');
    writeFileSync(garbled, `{"role": "workstation", "pairingKey": "${'ab'.repeat(32)}"`, { mode: 0o600 });
    const run = await runCli(['ble', 'test', '--uart', '/dev/null', '--pairing', garbled]);
    expect(run.code).toBe(2);
    oneLine(run.stderr);
    expect(run.stderr).toContain(`${garbled} is not valid JSON`);
    expect(run.stderr).not.toContain('abab');
    const ws = join(dir, 'side-ws.json');
    expect(
      (await runCli(['ble', 'dev-pairing', '--workstation', ws, '--phone', join(dir, 'side-phone.json')])).code,
    ).toBe(0);
    const served = await runCli(['phone', 'ble', 'serve', '--uart', '/dev/null', '--pairing', ws]);
    expect(served.code).toBe(4);
    expect(served.stderr).toBe(`latchkey: ${ws} is the workstation side of a pairing; give this side the phone file\n`);
  });
});

describe('options', () => {
  it('a malformed option value is exit code 2 with one sentence, never a stack trace; an unknown option is a usage error', async () => {
    const budget = await runCli([
      'ble',
      'test',
      '--uart',
      '/dev/null',
      '--pairing',
      join(dir, 'none.json'),
      '--budget',
      'soon',
    ]);
    expect(budget.code).toBe(2);
    expect(budget.stderr).toBe('latchkey: --budget must be an integer in 100…120000 (got soon)\n');
    const bad = await runCli(['ble', 'virtual-controller', '--interval', 'soon']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^latchkey: --interval must be an integer/);
    const unknown = await runCli(['ble', 'virtual-controller', '--frobnicate']);
    expect(unknown.code).toBe(64);
  });
});
