/**
 * Who started a process: its real uid (/proc/PID/status "Uid:" — real, effective, saved, fs).
 * SO_PEERCRED gives the effective uid, which for a setuid program such as su is root's; the
 * real uid says on whose behalf it runs, and the agent counts the connection against that
 * account's limits (docs/ipc.md "Limits per account").
 */
import { readFileSync } from 'node:fs';

const UID_LINE = /^Uid:\t(\d+)\t\d+\t\d+\t\d+$/m;

/** The process's real uid, or null when it is gone or /proc cannot say (the caller decides how to count it). */
export function realUidOf(pid: number): number | null {
  if (process.platform !== 'linux' || !Number.isSafeInteger(pid) || pid <= 0) return null;
  try {
    const match = UID_LINE.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}
