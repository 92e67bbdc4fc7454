/**
 * `latchkey ble test --user U --count N`: repeated Bluetooth unlocks through the running agent
 * (IPC op 11, the lock screen's path) on the adapter its config names — for an engineer with a
 * dongle and a paired phone. Prints a progress line, then the success rate and latency
 * percentiles; exit 0 only when every unlock succeeded.
 */
import { performance } from 'node:perf_hooks';
import { AgentClientError, askAgent } from '../../agent-client.js';
import { CliError, EXIT } from '../../../platform/exit-codes.js';
import { UnlockTally } from './unlock-summary.js';

export interface AgentTestOptions {
  readonly user: string;
  readonly count: number;
  readonly wait: number;
  readonly socket: string;
  readonly json?: boolean;
}

export async function runAgentUnlockTest(options: AgentTestOptions): Promise<number> {
  const tally = new UnlockTally(options.count);
  for (let i = 1; i <= options.count; i++) {
    const started = performance.now();
    let outcome: string;
    try {
      const reply = await askAgent(
        options.socket,
        { op: 'ble-auth', user: options.user, context: 'cli:ble-test', wait: options.wait },
        options.wait + 5_000,
      );
      outcome = reply.status === 'accepted' ? 'ok' : `${reply.status}/${reply.reason ?? '-'}`;
    } catch (error) {
      if (error instanceof AgentClientError) throw new CliError(error.message, EXIT.unavailable);
      throw error;
    }
    tally.record(i, outcome === 'ok' ? { ok: true, ms: performance.now() - started } : { ok: false, code: outcome });
    // A rejection pauses BLE for this user at the agent (docs/ipc.md op 11): nothing more to learn.
    if (outcome.startsWith('rejected')) break;
  }
  return tally.print(options.json ?? false) === 0 ? EXIT.ok : EXIT.failure;
}
