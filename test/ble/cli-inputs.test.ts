// What the BLE command-line entry points accept: transport specs, pairing files, options.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBleDevPairing, runBleUnlockTest, runVirtualController, type CliIo } from '../../ble/cli.js';
import { readPairingFile } from '../../ble/pairing-file.js';
import { parseTransport } from '../../ble/transport-spec.js';

const dir = mkdtempSync(join(tmpdir(), 'latchkey-ble-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function io(): CliIo & { out: string; err: string } {
  const sink = { out: '', err: '' };
  return Object.assign(sink, { stdout: (t: string) => void (sink.out += t), stderr: (t: string) => void (sink.err += t) });
}

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
    const out = io();
    expect(await runBleDevPairing(['--workstation', ws, '--phone', phone], out)).toBe(0);
    const w = readPairingFile(ws);
    const p = readPairingFile(phone);
    expect('workstationIdentity' in w && 'phoneIdentity' in p && Buffer.from(w.phonePublicKey).equals(Buffer.from(p.phoneIdentity.publicKey))).toBe(true);
    chmodSync(ws, 0o640);
    expect(() => readPairingFile(ws)).toThrow(/chmod 600/);
    expect(await runBleDevPairing(['--workstation', ws, '--phone', join(dir, 'other.json')], io())).not.toBe(0);
  });

  it('names the bad field', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ role: 'phone', id: 'x', pairingKey: 'zz', identityPrivateKey: '00'.repeat(32), peerPublicKey: '00'.repeat(32) }), { mode: 0o600 });
    expect(() => readPairingFile(bad)).toThrow(/pairingKey must be 64 hex digits/);
  });
});

describe('options', () => {
  it('a missing or malformed option is exit code 2 with a sentence, never a stack trace', async () => {
    const out = io();
    expect(await runBleUnlockTest(['--count', '3'], out)).toBe(2);
    expect(out.err).toMatch(/--transport is required/);
    const bad = io();
    expect(await runVirtualController(['--interval', 'soon'], bad)).toBe(2);
    expect(bad.err).toMatch(/--interval must be an integer/);
    const unknown = io();
    expect(await runVirtualController(['--frobnicate'], unknown)).toBe(2);
  });
});
