/** How a long-running command (the agent, the Control Center) waits for SIGINT or SIGTERM, and says which it got. */
import type { Logger } from '../platform/log.js';

export function untilStopped(log: Logger, event: string): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info(event, { signal });
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
