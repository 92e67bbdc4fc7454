/**
 * Kills a process and its descendants (Linux /proc). A process group is not enough: PAM
 * modules such as pam_exec start their helpers in a new session (setsid), outside the group.
 * Each process is stopped before its children are looked up, so nothing in the tree can fork
 * or reap (and free a pid for reuse) while we collect it. A descendant that double-forked away
 * to init before we looked is out of reach.
 */
import { readdirSync, readFileSync } from 'node:fs';

export function killProcessTree(root: number): void {
  const tree = new Set<number>();
  let found = [root];
  while (found.length > 0) {
    for (const pid of found) {
      tree.add(pid);
      signal(pid, 'SIGSTOP');
    }
    found = [...childrenOf(tree)].filter((pid) => !tree.has(pid));
  }
  for (const pid of tree) signal(pid, 'SIGKILL');
}

function childrenOf(parents: ReadonlySet<number>): Set<number> {
  const children = new Set<number>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return children;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const parent = parentOf(entry);
    if (parent !== undefined && parents.has(parent)) children.add(Number(entry));
  }
  return children;
}

/** /proc/PID/stat is "pid (comm) state ppid …"; comm may itself contain ") ". */
function parentOf(pid: string): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) ? ppid : undefined;
  } catch {
    return undefined; // exited while we looked
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}
