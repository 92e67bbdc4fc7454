// HCI Reset on a controller the OS shares (ble/shared-controller.ts, docs/ble-dongles.md): on
// the kernel's raw channel noble's resets (at open, and before every connection) would reach
// the controller BlueZ drives and drop the OS's own links. There Latchkey answers them itself.
// The decision is checked for every transport; the behaviour with the real noble on the virtual
// controller, whose capture shows every command a host sent.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { controllerIsShared, isResetCommand } from '../../ble/shared-controller.js';
import { parseTransport } from '../../ble/transport-spec.js';
import { parseBtsnoop, VirtualController } from '../../ble/virtual-controller/index.js';
import { startRig, type Rig } from './rig.js';

const dir = mkdtempSync(join(tmpdir(), 'latchkey-ble-shared-'));
let rig: Rig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The HCI Resets the workstation's host sent its controller, from the port's btsnoop capture. */
function resetsSent(captureDir: string): number {
  const records = parseBtsnoop(new Uint8Array(readFileSync(join(captureDir, 'workstation.btsnoop'))));
  return records.filter((r) => r.direction === 'host-to-controller' && isResetCommand(r.packet)).length;
}

describe('which controllers Latchkey may reset', () => {
  it('never the kernel raw channel (BlueZ holds it); the user channel, UART and USB dongles are its own', () => {
    expect(controllerIsShared(parseTransport('hci:0'))).toBe(true);
    expect(controllerIsShared(parseTransport('hci-user:0'))).toBe(false);
    expect(controllerIsShared(parseTransport('uart:/dev/ttyACM0'))).toBe(false);
    expect(controllerIsShared(parseTransport('usb:0a12:0001'))).toBe(false);
    const controller = new VirtualController();
    expect(controllerIsShared({ kind: 'virtual', controller, port: 'p' })).toBe(false);
    expect(controllerIsShared({ kind: 'virtual', controller, port: 'p', shared: true })).toBe(true);
    controller.close();
  });

  it('recognises exactly the Reset command', () => {
    expect(isResetCommand(Uint8Array.of(0x01, 0x03, 0x0c, 0x00))).toBe(true);
    expect(isResetCommand(Uint8Array.of(0x01, 0x01, 0x0c, 0x08, 0, 0, 0, 0, 0, 0, 0, 0))).toBe(false); // Set Event Mask
    expect(isResetCommand(Uint8Array.of(0x04, 0x0e, 0x04, 0x01, 0x03, 0x0c, 0x00))).toBe(false); // its Command Complete
  });
});

describe('the real noble on the virtual controller', () => {
  it('on its own controller, resets it at open and before each connection', async () => {
    const captureDir = join(dir, 'own');
    rig = await startRig({ controller: { captureDir } });
    for (let i = 0; i < 2; i++) expect(await rig.workstation.unlock({ budgetMs: 5_000 })).toMatchObject({ ok: true });
    await rig.close();
    rig = null;
    expect(resetsSent(captureDir)).toBe(3);
  });

  it('on a shared controller, never sends a Reset, and opens, scans, connects and unlocks all the same', async () => {
    const captureDir = join(dir, 'shared');
    rig = await startRig({ controller: { captureDir }, sharedWorkstation: true });
    expect(await rig.workstation.unlock({ budgetMs: 5_000 })).toMatchObject({ ok: true, gattCached: false });
    expect(await rig.workstation.unlock({ budgetMs: 5_000 })).toMatchObject({ ok: true, gattCached: true });
    expect(rig.controller.connections).toHaveLength(2);
    await rig.close();
    rig = null;
    expect(resetsSent(captureDir)).toBe(0);
  });
});
