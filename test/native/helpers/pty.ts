/**
 * Runs a command on a pseudo-terminal (util-linux `script`) and answers its prompts the way
 * a person would: wait until the prompt is on the screen, then type. (Typing earlier would be
 * lost: a password prompt flushes pending input when it turns echo off.)
 */
import { spawn } from 'node:child_process';

export interface Exchange {
  readonly waitFor: RegExp;
  readonly type: string;
}

export interface PtyRun {
  readonly code: number | null;
  readonly screen: string;
}

export function runOnPty(argv: string[], exchanges: Exchange[], timeoutMs = 20_000): Promise<PtyRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    let screen = '';
    let step = 0;
    let consumed = 0;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out at step ${step}; screen so far:\n${screen}`));
    }, timeoutMs);
    const advance = () => {
      while (step < exchanges.length) {
        const { waitFor, type } = exchanges[step]!;
        const match = waitFor.exec(screen.slice(consumed));
        if (!match) return;
        consumed += match.index + match[0].length;
        step++;
        child.stdin.write(type);
      }
    };
    child.stdout.on('data', (d) => {
      screen += d;
      advance();
    });
    child.stderr.on('data', (d) => (screen += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      child.stdin.destroy();
      resolve({ code, screen });
    });
  });
}

/** `script` gives the command a controlling terminal; -e passes its exit status on. */
export function onTerminal(command: string): string[] {
  return ['script', '-qefc', command, '/dev/null'];
}
