/**
 * How to start `latchkey agent` as a process: the same V8 flags as the bin's shebang, so the
 * demo, the tests and the benchmarks measure the agent as it ships (the systemd unit uses them
 * too). `--lite-mode` trades the optimising JIT, which a service bound by Argon2id and fsync
 * does not need, for ~8 MB less resident memory (bench/agent-verify.mjs); `--no-expose-wasm`
 * only silences V8's note that lite mode turns WebAssembly off; `--single-threaded-gc` collects
 * the agent's small heap (~16 MiB) on the main thread instead of on helper threads, ~2 MiB less
 * resident memory, with the verify path's figures unchanged (bench/agent-verify.mjs).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const AGENT_NODE_FLAGS: readonly string[] = ['--lite-mode', '--no-expose-wasm', '--single-threaded-gc'];

/** bin/latchkey.js of this checkout, found from dist/cli/ (built) or cli/ (tests run the sources). */
function findBin(): string {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'bin', 'latchkey.js');
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) throw new Error('bin/latchkey.js not found above this module');
  }
}

export const LATCHKEY_BIN = findBin();

/** The command line that runs `latchkey <args…>` under the shipped flags. */
export function latchkeyCommand(args: readonly string[]): { command: string; args: string[] } {
  return { command: process.execPath, args: [...AGENT_NODE_FLAGS, LATCHKEY_BIN, ...args] };
}
