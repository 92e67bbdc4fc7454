// The one option the benchmarks take, `--count N` (how many rounds), parsed with commander like
// every other command line in the project.
import { Command } from 'commander';

export function benchCount(defaultCount) {
  const { count } = new Command().option('--count <n>', 'how many rounds', String(defaultCount)).parse().opts();
  const value = Number(count);
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`--count must be a whole number from 1 up (got ${count})`);
  return value;
}
