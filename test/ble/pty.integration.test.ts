// Two machines in two processes: the phone (real bleno) and the workstation (real noble), each
// on its own pseudo-terminal of a virtual controller running in a third process, run from the
// CLI alone as two dongles on two machines would be: `latchkey ble dev-pairing`, `latchkey ble
// virtual-controller`, `latchkey phone ble serve --pairing` and `latchkey ble test --pairing`.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBtsnoop } from '../../ble/virtual-controller/index.js';
import { ensureBuilt, startLatchkey, type CliProcess } from './processes.js';

const dir = mkdtempSync(join(tmpdir(), 'latchkey-ble-pty-'));
const started: CliProcess[] = [];

beforeAll(() => ensureBuilt(), 120_000);
afterAll(async () => {
  for (const proc of started)
    if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL');
  await Promise.all(started.map((p) => p.exited));
  rmSync(dir, { recursive: true, force: true });
});

async function pairingFiles(): Promise<{ workstation: string; phone: string }> {
  const files = { workstation: join(dir, 'workstation-pairing.json'), phone: join(dir, 'phone-pairing.json') };
  const pairing = startLatchkey([
    'ble',
    'dev-pairing',
    '--workstation',
    files.workstation,
    '--phone',
    files.phone,
    '--id',
    'phone-over-pty',
    '--name',
    'ws-1',
  ]);
  started.push(pairing);
  expect(await pairing.exited, pairing.stderr).toBe(0);
  expect(statSync(files.phone).mode & 0o777).toBe(0o600);
  return files;
}

describe('two processes over pseudo-terminals', () => {
  it('the phone process unlocks the workstation process three times through the controller process', async () => {
    const files = await pairingFiles();
    const controller = startLatchkey([
      'ble',
      'virtual-controller',
      '--json',
      '--dir',
      join(dir, 'pty'),
      '--capture',
      join(dir, 'capture'),
    ]);
    started.push(controller);
    const { ports } = JSON.parse(await controller.firstLine()) as { ports: { phone: string; workstation: string } };
    expect(existsSync(ports.phone) && existsSync(ports.workstation)).toBe(true);

    // The phone side needs no vault: its home does not even exist.
    const phone = startLatchkey(
      ['phone', 'ble', 'serve', '--uart', ports.phone, '--pairing', files.phone, '--auto-approve', '--count', '3'],
      { LATCHKEY_PHONE_HOME: join(dir, 'no-phone-home') },
    );
    started.push(phone);
    await phone.firstLine();
    const workstation = startLatchkey([
      'ble',
      'test',
      '--uart',
      ports.workstation,
      '--pairing',
      files.workstation,
      '--count',
      '3',
      '--json',
    ]);
    started.push(workstation);

    expect(await workstation.exited, workstation.stderr).toBe(0);
    const summary = JSON.parse(workstation.stdout.trim()) as { unlocked: number; p50Ms: number };
    expect(summary.unlocked).toBe(3);
    expect(workstation.stderr).toContain('unlock 3/3: ok');
    expect(await phone.exited, phone.stderr).toBe(0);
    expect(phone.stdout.match(/^Unlocked ws-1\.$/gm)).toHaveLength(3);

    controller.child.kill('SIGTERM');
    expect(await controller.exited).toBe(0);
    expect(controller.stderr).toMatch(/connection 3 workstation → phone: \d+ ATT PDUs/);
    expect(existsSync(ports.phone)).toBe(false);
    // Each machine's HCI traffic was captured; the workstation's shows its three connections.
    const records = parseBtsnoop(new Uint8Array(readFileSync(join(dir, 'capture', 'workstation.btsnoop'))));
    const connectionCompletes = records.filter(
      (r) =>
        r.direction === 'controller-to-host' && r.packet[1] === 0x3e && r.packet[3] === 0x01 && r.packet[4] === 0x00,
    );
    expect(connectionCompletes).toHaveLength(3);
  }, 60_000);
});
