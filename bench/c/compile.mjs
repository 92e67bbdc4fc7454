// Builds the benchmarks' C helpers (this folder) with the C compiler at hand.
import { spawnSync } from 'node:child_process';

/** cc, gcc or clang, whichever answers first; undefined when there is none. */
export const C_COMPILER = ['cc', 'gcc', 'clang'].find((cc) => spawnSync(cc, ['--version'], { stdio: 'ignore' }).status === 0);

/** Compiles `sources` (-O2, with `includes`) to `output`; throws with the compiler's message. */
export function compileC(output, sources, includes = []) {
  if (C_COMPILER === undefined) throw new Error('no C compiler (cc, gcc or clang)');
  const built = spawnSync(C_COMPILER, ['-O2', ...includes.map((dir) => `-I${dir}`), '-o', output, ...sources], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`building ${output} failed: ${built.stderr}`);
  return output;
}
