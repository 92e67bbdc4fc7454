import { readFileSync } from 'node:fs';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { readBootClock } from '../../../platform/linux/boot-clock.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('readBootClock', () => {
  it('reads the kernel boot id, the time since boot and the wall clock', () => {
    const before = Date.now();
    const reading = readBootClock();
    expect(reading.bootId).toMatch(UUID);
    expect(reading.bootId).toBe(readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
    expect(Number.isInteger(reading.uptimeMs)).toBe(true);
    expect(Math.abs(reading.uptimeMs - os.uptime() * 1000)).toBeLessThan(1_500);
    expect(reading.wallMs).toBeGreaterThanOrEqual(before);
    expect(reading.wallMs).toBeLessThanOrEqual(Date.now());
  });

  it('moves uptime forward with time and keeps the boot id', async () => {
    const first = readBootClock();
    await sleep(250);
    const second = readBootClock();
    expect(second.bootId).toBe(first.bootId);
    // /proc/uptime has 10 ms resolution.
    expect(second.uptimeMs - first.uptimeMs).toBeGreaterThanOrEqual(230);
    expect(second.uptimeMs - first.uptimeMs).toBeLessThan(5_000);
  });
});
