/**
 * What a started child process prints (stdout and stderr together), and a wait for it to print
 * something: woken by each chunk and by the exit, failing when the child exits first or the
 * time runs out, with everything it printed in the error.
 */
import type { ChildProcess } from 'node:child_process';

export interface ChildOutput {
  readonly child: ChildProcess;
  /** Settles when the child has exited. */
  readonly exited: Promise<void>;
  output(): string;
  /** Resolves with what `find` picks out of the output so far, once it picks something. */
  waitForOutput<T>(find: (output: string) => T | undefined, what: string, timeoutMs: number): Promise<T>;
}

/** Starts collecting `child`'s output; `name` says whose it is in errors. */
export function collectOutput(child: ChildProcess, name: string): ChildOutput {
  let output = '';
  const waiters: Array<() => void> = [];
  const wakeAll = () => {
    for (const wake of waiters.splice(0)) wake();
  };
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    wakeAll();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  child.once('exit', wakeAll);
  return {
    child,
    exited: new Promise<void>((resolve) => child.once('exit', () => resolve())),
    output: () => output,
    async waitForOutput(find, what, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = find(output);
        if (found !== undefined) return found;
        if (child.exitCode !== null || child.signalCode !== null)
          throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before printing ${what}:\n${output}`);
        if (Date.now() > deadline) throw new Error(`${name} did not print ${what} within ${timeoutMs} ms:\n${output}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
    },
  };
}
