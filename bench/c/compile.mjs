// Builds the benchmarks' C helpers (this folder) with the C compiler at hand; the module's own
// sources come as the libraries native/c-library.mjs builds.
import { spawnSync } from 'node:child_process';
import { C_COMPILER } from '../../native/c-library.mjs';

export { C_COMPILER };

/** Compiles `sources` (-O2, with `includes`; libraries last) to `output`; throws with the compiler's message. */
export function compileC(output, sources, includes = []) {
  if (C_COMPILER === undefined) throw new Error('no C compiler (cc, gcc or clang)');
  const built = spawnSync(C_COMPILER, ['-O2', ...includes.map((dir) => `-I${dir}`), '-o', output, ...sources], {
    encoding: 'utf8',
  });
  if (built.status !== 0) throw new Error(`building ${output} failed: ${built.stderr}`);
  return output;
}
