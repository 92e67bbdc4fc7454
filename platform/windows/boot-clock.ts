/**
 * The boot clock on Windows (platform/clock.ts): the time since boot from GetTickCount64, which
 * counts the time the machine slept (QueryUnbiasedInterruptTime would not) and cannot be set, and
 * a boot id: the kernel's BootId counter (HKLM\…\PrefetchParameters, one more per boot). Where
 * that counter is missing (wine) the boot is named by its start, now minus the tick count rounded
 * to 10 s, read once per process — a clock set between two agent runs then looks like a reboot,
 * which only makes the delays start again from their stored floor.
 */
import type { BootClockReading } from '../linux/boot-clock.js';
import { useWin32 } from './win32.js';

const HKEY_LOCAL_MACHINE = 0x8000_0002;
const RRF_RT_REG_DWORD = 0x10;
const PREFETCH = 'SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Memory Management\\PrefetchParameters';
const CODE = 'boot-clock-unavailable';

let bootId: string | undefined;

export function readBootClock(): BootClockReading {
  const win = useWin32(CODE);
  const uptimeMs = Number(win.GetTickCount64());
  const wallMs = Date.now();
  bootId ??= readBootId(wallMs - uptimeMs);
  return { bootId, uptimeMs, wallMs };
}

function readBootId(bootedAtMs: number): string {
  const win = useWin32(CODE);
  const counter: [number] = [0];
  const bytes: [number] = [4];
  const found = win.RegGetValueW(HKEY_LOCAL_MACHINE, PREFETCH, 'BootId', RRF_RT_REG_DWORD, null, counter, bytes) === 0;
  const bootedAt = Math.round(bootedAtMs / 10_000) * 10;
  return found ? `windows-boot-${counter[0]}` : `windows-started-${bootedAt}`;
}
