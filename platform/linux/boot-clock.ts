/**
 * The two kernel clocks the anti-hammering delays are measured on (docs/state-files.md,
 * "Delays survive restarts, reboots and a clock set back"): the boot id, and the time since
 * boot from /proc/uptime, which is CLOCK_BOOTTIME (counts suspend, cannot be set).
 * Anything unexpected throws: the caller treats an unreadable clock as a fault, never as 0.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { SystemError, requireLinux } from '../system-error.js';

export interface BootClockReading {
  bootId: string;
  uptimeMs: number;
  wallMs: number;
}

const BOOT_ID_FILE = '/proc/sys/kernel/random/boot_id';
const UPTIME_FILE = '/proc/uptime';
const BOOT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// "12345.67 54321.00\n": seconds since boot, then idle time; Linux prints two decimals.
const UPTIME = /^(\d{1,12})\.(\d{2}) \d+\.\d+\n?$/;
const CODE = 'boot-clock-unavailable';

/** The boot id cannot change while this process runs: read it once. */
let cachedBootId: string | undefined;

export function readBootClock(): BootClockReading {
  requireLinux(CODE, 'Reading the boot clock');
  cachedBootId ??= readBootId();
  const bootId = cachedBootId;
  const uptime = UPTIME.exec(readUptime());
  if (!uptime) throw new SystemError(CODE, `${UPTIME_FILE} is not in the expected "seconds.hundredths idle" form`);
  // Integer arithmetic: no float rounding in a value compared across restarts.
  const uptimeMs = Number(uptime[1]) * 1000 + Number(uptime[2]) * 10;
  return { bootId, uptimeMs, wallMs: Date.now() };
}

function readBootId(): string {
  const bootId = readProc(BOOT_ID_FILE).trim();
  if (!BOOT_ID.test(bootId)) throw new SystemError(CODE, `${BOOT_ID_FILE} does not hold a UUID`);
  return bootId;
}

/**
 * /proc/uptime through one descriptor kept open: a positioned read regenerates the line, and
 * costs a fifth of an open-read-close (this runs twice per unlock). Reopened once if it fails.
 */
let uptimeFd: number | undefined;
const uptimeBuffer = Buffer.alloc(64);

function readUptime(): string {
  for (let attempt = 0; ; attempt++) {
    try {
      uptimeFd ??= openSync(UPTIME_FILE, 'r');
      const length = readSync(uptimeFd, uptimeBuffer, 0, uptimeBuffer.length, 0);
      return uptimeBuffer.toString('latin1', 0, length);
    } catch (error) {
      if (uptimeFd !== undefined) {
        try {
          closeSync(uptimeFd);
        } catch {
          // already gone
        }
        uptimeFd = undefined;
      }
      if (attempt > 0)
        throw new SystemError(CODE, `cannot read ${UPTIME_FILE}: ${(error as Error).message}`, { cause: error });
    }
  }
}

function readProc(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new SystemError(CODE, `cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
}
