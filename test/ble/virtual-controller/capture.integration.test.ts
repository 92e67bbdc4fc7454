// The btsnoop capture of a real unlock (noble and bleno on the virtual controller), opened by
// Wireshark's own dissector (tshark), as an engineer would open it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseBtsnoop } from '../../../ble/virtual-controller/index.js';
import { startRig } from '../rig.js';

const dir = mkdtempSync(join(tmpdir(), 'latchkey-ble-capture-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tshark(file: string, fields: string[], filter: string): string[][] {
  const out = execFileSync('tshark', ['-r', file, '-Y', filter, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split('\t'));
}

describe('btsnoop capture', () => {
  it('holds every HCI packet of an unlock, and Wireshark dissects its ATT traffic', async () => {
    const rig = await startRig({ controller: { captureDir: dir } });
    try {
      expect((await rig.workstation.unlock({ budgetMs: 5_000 })).ok).toBe(true);
    } finally {
      await rig.close();
    }
    const workstation = join(dir, 'workstation.btsnoop');
    const bytes = new Uint8Array(readFileSync(workstation));
    expect(Buffer.from(bytes.subarray(0, 16)).toString('hex')).toBe('6274736e6f6f7000' + '00000001' + '000003ea');
    const records = parseBtsnoop(bytes);
    expect(records.some((r) => r.direction === 'host-to-controller' && r.commandOrEvent && r.packet[0] === 0x01)).toBe(
      true,
    );
    expect(records.some((r) => r.direction === 'controller-to-host' && !r.commandOrEvent && r.packet[0] === 0x02)).toBe(
      true,
    );

    // Wireshark: the LE Create Connection command, then ATT writes out and notifications in.
    expect(tshark(workstation, ['bthci_cmd.opcode'], 'bthci_cmd.opcode == 0x200d')).toHaveLength(1);
    const att = tshark(workstation, ['btatt.opcode'], 'btatt');
    const opcodes = att.map(([opcode]) => Number(opcode));
    expect(opcodes).toContain(0x52);
    expect(opcodes).toContain(0x1b);
    expect(opcodes.filter((o) => o === 0x52)).toHaveLength(3);
    // And the phone's side of the same air, from its own capture.
    expect(tshark(join(dir, 'phone.btsnoop'), ['btatt.opcode'], 'btatt.opcode == 0x1b')).toHaveLength(2);
  });
});
