// What several benchmarks share: their options (--count, --samples, --rounds…), parsed with
// commander like every other command line in the project (unknown options are let through:
// bench/run-all.mjs hands the same ones to every benchmark, and each takes its own), and whether
// an agent answers on a socket yet; where the repository is, its compiled modules, and where the
// figures go.
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command } from 'commander';

/** The repository's root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** A compiled module of the project, from dist/ (`npm run build` first). */
export const dist = (module) => import(pathToFileURL(join(ROOT, 'dist', module)).href);

/** Writes a benchmark's figures to bench/results/NAME.json. */
export function writeResults(name, figures, indent = 2) {
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/results', `${name}.json`), `${JSON.stringify(figures, null, indent)}\n`);
}

/**
 * `numbers` maps each whole-number option (without its dashes) to its default; `strings` and
 * `flags` name the others. Returns the values by option name, camel-cased as commander does.
 */
export function benchOptions({ numbers = {}, strings = {}, flags = [] } = {}) {
  const program = new Command().allowUnknownOption().allowExcessArguments();
  for (const [name, fallback] of Object.entries(numbers)) program.option(`--${name} <n>`, '', String(fallback));
  for (const [name, fallback] of Object.entries(strings)) program.option(`--${name} <value>`, '', fallback);
  for (const name of flags) program.option(`--${name}`);
  const values = program.parse().opts();
  for (const name of Object.keys(numbers)) {
    const key = name.replace(/-(.)/g, (_, letter) => letter.toUpperCase());
    const value = Number(values[key]);
    if (!Number.isInteger(value) || value < 1)
      throw new RangeError(`--${name} must be a whole number from 1 up (got ${values[key]})`);
    values[key] = value;
  }
  return values;
}

/** The one option most benchmarks take: `--count N` rounds. */
export function benchCount(defaultCount) {
  return benchOptions({ numbers: { count: defaultCount } }).count;
}

/** Whether something accepts connections on the Unix socket `socket` now. */
export function canConnect(socket) {
  return new Promise((resolve) => {
    const probe = net.connect(socket, () => {
      probe.destroy();
      resolve(true);
    });
    probe.on('error', () => resolve(false));
  });
}
