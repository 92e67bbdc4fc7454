/** How a long-running command (the agent, the Control Center) waits for SIGINT or SIGTERM, and says which it got. */
import type { Logger } from '../platform/log.js';

export interface StopSignals {
  /**
   * Also stop when standard input ends (the Windows service wrapper's way to ask: docs/windows.md
   * §2). Opt-in: under systemd standard input is /dev/null, which ends at once.
   */
  readonly stdinClose?: boolean;
}

export function untilStopped(log: Logger, event: string, signals: StopSignals = {}): Promise<void> {
  return new Promise<void>((resolve) => {
    let stopped = false;
    const stop = (signal: string) => {
      if (stopped) return;
      stopped = true;
      process.stdin.off('end', onEnd);
      process.stdin.off('error', onEnd);
      if (signals.stdinClose) process.stdin.pause();
      log.info(event, { signal });
      resolve();
    };
    const onEnd = () => stop('stdin-closed');
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (signals.stdinClose) {
      process.stdin.on('end', onEnd);
      process.stdin.on('error', onEnd);
      process.stdin.on('data', () => undefined);
      process.stdin.resume();
    }
  });
}
