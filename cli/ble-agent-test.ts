/**
 * `latchkey ble test --user U --count N`: repeated Bluetooth unlocks through the running agent
 * (IPC op 11, the lock screen's path) on the adapter its config names — for an engineer with a
 * dongle and a paired phone. Prints a progress line, then the success rate and latency
 * percentiles; exit 0 only when every unlock succeeded.
 */
import { performance } from 'node:perf_hooks';
import { AgentClientError, askAgent } from './agent-client.js';
import { CliError, EXIT } from './exit-codes.js';

export interface AgentTestOptions {
  readonly user: string;
  readonly count: number;
  readonly wait: number;
  readonly socket: string;
  readonly json?: boolean;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export async function runAgentUnlockTest(options: AgentTestOptions): Promise<number> {
  const latencies: number[] = [];
  const failures = new Map<string, number>();
  for (let i = 1; i <= options.count; i++) {
    const started = performance.now();
    let outcome: string;
    try {
      const reply = await askAgent(options.socket, { op: 'ble-auth', user: options.user, context: 'cli:ble-test', wait: options.wait }, options.wait + 5_000);
      outcome = reply.status === 'accepted' ? 'ok' : `${reply.status}/${reply.reason ?? '-'}`;
    } catch (error) {
      if (error instanceof AgentClientError) throw new CliError(error.message, EXIT.unavailable);
      throw error;
    }
    const ms = performance.now() - started;
    if (outcome === 'ok') latencies.push(ms);
    else failures.set(outcome, (failures.get(outcome) ?? 0) + 1);
    process.stderr.write(`\runlock ${i}/${options.count}: ${outcome === 'ok' ? `ok ${ms.toFixed(0)} ms` : outcome}   `);
    // A rejection pauses BLE for this user at the agent (docs/ipc.md op 11): nothing more to learn.
    if (outcome.startsWith('rejected')) break;
  }
  process.stderr.write('\n');
  const sorted = [...latencies].sort((a, b) => a - b);
  const summary = {
    count: options.count, unlocked: latencies.length, successRate: latencies.length / options.count,
    p50Ms: percentile(sorted, 50), p90Ms: percentile(sorted, 90), p99Ms: percentile(sorted, 99), maxMs: sorted.at(-1) ?? Number.NaN,
    failures: Object.fromEntries(failures),
  };
  if (options.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else {
    const f = (n: number) => (Number.isNaN(n) ? '–' : `${n.toFixed(1)} ms`);
    process.stdout.write(`${summary.unlocked}/${options.count} unlocked (${(summary.successRate * 100).toFixed(1)}%); latency p50 ${f(summary.p50Ms)}, p90 ${f(summary.p90Ms)}, p99 ${f(summary.p99Ms)}, max ${f(summary.maxMs)}\n`);
    for (const [code, n] of failures) process.stdout.write(`  ${n} × ${code}\n`);
  }
  return summary.unlocked === options.count ? EXIT.ok : EXIT.failure;
}
