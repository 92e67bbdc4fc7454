import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { killProcessTree } from '../../../platform/linux/process-tree.js';

/** Live (non-zombie) children of `parent`. */
function liveChildren(parent: number): number[] {
  const children = [];
  for (const entry of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state !== 'Z' && Number(ppid) === parent) children.push(Number(entry));
    } catch {
      // Gone while we looked.
    }
  }
  return children;
}

function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('killProcessTree', () => {
  it('kills a process and a grandchild that moved to its own session (as pam_exec does)', async () => {
    const shell = spawn('sh', ['-c', 'setsid sleep 30 & setsid sh -c "sleep 30 & wait" & wait'], { stdio: 'ignore' });
    const exited = new Promise((resolve) => shell.once('exit', resolve));
    // sh → setsid sleep, and sh → setsid sh → sleep: three descendants in other sessions.
    const descendants = (): number[] => {
      const direct = liveChildren(shell.pid!);
      return [...direct, ...direct.flatMap(liveChildren)];
    };
    await expect.poll(() => descendants().length, { timeout: 2_000, interval: 20 }).toBe(3);
    const tree = descendants();

    killProcessTree(shell.pid!);
    await exited;
    await expect.poll(() => tree.filter(alive), { timeout: 2_000, interval: 20 }).toEqual([]);
  });
});
