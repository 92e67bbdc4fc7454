// An adapter that is not there, through the real CLI on this machine (docs/ble-dongles.md
// "Troubleshooting"): a missing USB dongle, a --uart path that does not exist or is not a tty,
// and a kernel adapter that does not exist each fail at once with one latchkey: line naming the
// cause and the next step — before noble or bleno load, so without their 5-second power-on wait
// and without their advice on stdout.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createNoble } from '../../ble/stack.js';
import { runCli } from '../helpers/run-cli.js';
import { ensureBuilt } from './processes.js';

const dir = mkdtempSync(join(tmpdir(), 'latchkey-ble-adapters-'));
let pairings: { workstation: string; phone: string };
beforeAll(async () => {
  ensureBuilt();
  pairings = { workstation: join(dir, 'ws.json'), phone: join(dir, 'phone.json') };
  expect(
    (await runCli(['ble', 'dev-pairing', '--workstation', pairings.workstation, '--phone', pairings.phone])).code,
  ).toBe(0);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The power-on wait the libraries would have spent (ble/central.ts); a failure found first comes well before it. */
const POWER_ON_WAIT_MS = 5_000;

async function fails(args: string[], exitCode: number, sentence: RegExp): Promise<void> {
  const started = performance.now();
  const run = await runCli(args);
  const ms = performance.now() - started;
  expect(run.code, run.stderr).toBe(exitCode);
  expect(run.stderr.split('\n').filter(Boolean), run.stderr).toHaveLength(1);
  expect(run.stderr).toMatch(sentence);
  expect(run.stdout).not.toMatch(/warning/i);
  expect(ms).toBeLessThan(POWER_ON_WAIT_MS - 500);
}

describe('an adapter that is not there fails at once, in one sentence', () => {
  it('a USB dongle that is not plugged in (no more "reading \'controlTransfer\'")', async () => {
    for (const command of [
      ['ble', 'scan', '--seconds', '1'],
      ['ble', 'test', '--pairing', '__ws__'],
    ]) {
      const args = command.map((a) => (a === '__ws__' ? pairings.workstation : a));
      await fails(
        [...args, '--usb', 'f0f0:0f0f'],
        2,
        /^latchkey: no USB device f0f0:0f0f is connected: plug the dongle in and check its ids with lsusb/,
      );
    }
    await fails(
      ['phone', 'ble', 'serve', '--usb', 'f0f0:0f0f', '--pairing', pairings.phone],
      1,
      /^latchkey: Bluetooth is not available: no USB device f0f0:0f0f is connected/,
    );
  });

  it('a --uart path that does not exist, or is not a tty', async () => {
    await fails(
      ['ble', 'scan', '--uart', join(dir, 'ttyACM9')],
      2,
      new RegExp(`^latchkey: the serial port ${join(dir, 'ttyACM9')} does not exist: plug the dongle in`),
    );
    await fails(
      ['ble', 'scan', '--uart', '/etc/passwd'],
      2,
      /^latchkey: \/etc\/passwd is not a serial port \(not a tty\): name the dongle's/,
    );
    await fails(
      ['ble', 'test', '--uart', '/dev/null', '--pairing', pairings.workstation],
      2,
      /^latchkey: \/dev\/null is not a serial port/,
    );
  });

  it('--hci N without such an adapter (or without Bluetooth in the kernel at all)', async () => {
    await fails(
      ['ble', 'scan', '--hci', '9'],
      2,
      /^latchkey: (this computer's kernel has no Bluetooth \(no \/sys\/class\/bluetooth\)|there is no Bluetooth adapter hci9: )/,
    );
    await fails(
      ['ble', 'test', '--transport', 'hci-user:9', '--pairing', pairings.workstation],
      2,
      /^latchkey: (this computer's kernel has no Bluetooth|there is no Bluetooth adapter hci9)/,
    );
  });
});

describe("noble's own advice", () => {
  it('is never printed, however often a kernel adapter turns out unsupported (the agent reopens every few seconds)', async () => {
    const printed: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void printed.push(args.join(' ')));
    try {
      for (let attempt = 0; attempt < 2; attempt++) {
        // hci99 exists nowhere: binding it fails (or the kernel has no Bluetooth socket), and noble says unsupported.
        const noble = createNoble({ kind: 'hci', deviceId: 99 });
        const state = await new Promise<string>((resolve) =>
          noble.on('stateChange', (s: string) => s !== 'poweredOn' && resolve(s)),
        );
        expect(state).toBe('unsupported');
        noble.stop();
      }
    } finally {
      log.mockRestore();
    }
    expect(printed.filter((line) => /noble warning/.test(line))).toEqual([]);
  });
});
