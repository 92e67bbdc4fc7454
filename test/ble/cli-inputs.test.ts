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
    expect(parseTransport('uart:/dev/ttyUSB0@115200')).toEqual({ kind: 'uart', path: '/dev/ttyUSB0', baudRate: 115200 });
    expect(parseTransport('usb:0a12:0001')).toEqual({ kind: 'usb', vid: 0x0a12, pid: 0x0001 });
    expect(parseTransport('usb:0x0bda:0x8771:1:7')).toEqual({ kind: 'usb', vid: 0x0bda, pid: 0x8771, bus: 1, address: 7 });
  });

  it('refuses anything else with a sentence that shows the right form', () => {
    for (const bad of ['hci:', 'hci:x', 'uart:ttyUSB0', 'uart:/dev/x@fast', 'usb:0a12', 'usb:zz:01', 'bt:0', '']) expect(() => parseTransport(bad)).toThrow(RangeError);
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
    expect('workstationIdentity' in w && 'phoneIdentity' in p && Buffer.from(w.phonePublicKey).equals(Buffer.from(p.phoneIdentity.publicKey))).toBe(true);
    chmodSync(ws, 0o640);
    expect(() => readPairingFile(ws)).toThrow(/chmod 600/);
    expect((await runCli(['ble', 'dev-pairing', '--workstation', ws, '--phone', join(dir, 'other.json')])).code).not.toBe(0);
  });

  it('names the bad field', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ role: 'phone', id: 'x', pairingKey: 'zz', identityPrivateKey: '00'.repeat(32), peerPublicKey: '00'.repeat(32) }), { mode: 0o600 });
    expect(() => readPairingFile(bad)).toThrow(/pairingKey must be 64 hex digits/);
  });
});

describe('options', () => {
  it('a malformed option value is exit code 2 with one sentence, never a stack trace; an unknown option is a usage error', async () => {
    const budget = await runCli(['ble', 'test', '--uart', '/dev/null', '--pairing', join(dir, 'none.json'), '--budget', 'soon']);
    expect(budget.code).toBe(2);
    expect(budget.stderr).toBe('latchkey: --budget must be an integer in 100…120000 (got soon)\n');
    const bad = await runCli(['ble', 'virtual-controller', '--interval', 'soon']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^latchkey: --interval must be an integer/);
    const unknown = await runCli(['ble', 'virtual-controller', '--frobnicate']);
    expect(unknown.code).toBe(64);
  });
});
