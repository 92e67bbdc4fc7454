/**
 * What `latchkey ble test` prints, through the agent or on an adapter: a progress line per
 * unlock on stderr, then the success rate and latency percentiles on stdout (or one JSON line).
 */

export interface UnlockSummary {
  readonly count: number;
  readonly unlocked: number;
  readonly successRate: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly failures: Record<string, number>;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Collects the outcome of each unlock as it comes. */
export class UnlockTally {
  readonly #latencies: number[] = [];
  readonly #failures = new Map<string, number>();

  constructor(readonly count: number) {}

  /** Records unlock `index` (1-based): its latency when it unlocked, else its failure code; prints the progress line. */
  record(index: number, outcome: { ok: true; ms: number } | { ok: false; code: string }): void {
    if (outcome.ok) this.#latencies.push(outcome.ms);
    else this.#failures.set(outcome.code, (this.#failures.get(outcome.code) ?? 0) + 1);
    process.stderr.write(
      `\runlock ${index}/${this.count}: ${outcome.ok ? `ok ${outcome.ms.toFixed(0)} ms` : outcome.code}   `,
    );
  }

  summary(): UnlockSummary {
    const sorted = [...this.#latencies].sort((a, b) => a - b);
    return {
      count: this.count,
      unlocked: sorted.length,
      successRate: sorted.length / this.count,
      p50Ms: percentile(sorted, 50),
      p90Ms: percentile(sorted, 90),
      p99Ms: percentile(sorted, 99),
      maxMs: sorted.at(-1) ?? Number.NaN,
      failures: Object.fromEntries(this.#failures),
    };
  }

  /** Ends the progress line and prints the summary; exit 0 only when every unlock succeeded. */
  print(json: boolean): number {
    process.stderr.write('\n');
    const summary = this.summary();
    if (json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else {
      const f = (n: number) => (Number.isNaN(n) ? '–' : `${n.toFixed(1)} ms`);
      process.stdout.write(
        `${summary.unlocked}/${summary.count} unlocked (${(summary.successRate * 100).toFixed(1)}%); latency p50 ${f(summary.p50Ms)}, p90 ${f(summary.p90Ms)}, p99 ${f(summary.p99Ms)}, max ${f(summary.maxMs)}\n`,
      );
      for (const [code, n] of Object.entries(summary.failures)) process.stdout.write(`  ${n} × ${code}\n`);
    }
    return summary.unlocked === summary.count ? 0 : 1;
  }
}
