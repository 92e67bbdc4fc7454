/**
 * The memory-hard verifier KDF (docs/offline-pins.md "Verifiers at rest"): Argon2id, RFC 9106,
 * version 0x13, one 16-byte salt per counter, 32-byte output. Evaluations run on the libuv
 * thread pool, at most one per core, so a wrong PIN checked against a full pool uses both
 * cores without starving file I/O.
 */
import { requireCjs } from '../../platform/load-cjs.js';
import { availableParallelism } from 'node:os';
import * as v from 'valibot';
import { intRange } from '../../protocol/policy-settings.js';

export const VERIFIER_SALT_BYTES = 16;
export const VERIFIER_HASH_BYTES = 32;
/**
 * The verifier format of every pool issued now (docs/windows.md §6.2): the one Argon2id output
 * A_c is kept as neither; the pool keeps HKDF(A_c, "latchkey-pin/1 verifier") and the X25519 public
 * key of HKDF(A_c, "latchkey-pin/1 credential key"). A pool without the field keeps A_c itself.
 */
export const HKDF_VERIFIER_FORMAT = 'argon2id-hkdf-v1';
export type VerifierFormat = typeof HKDF_VERIFIER_FORMAT;
const ARGON2ID = 2; // @node-rs/argon2 Algorithm.Argon2id (a const enum)
const VERSION_0x13 = 1; // @node-rs/argon2 Version.V0x13

export interface KdfParams {
  readonly algorithm: 'argon2id';
  readonly version: 19;
  readonly memoryKiB: number;
  readonly iterations: number;
  readonly parallelism: 1;
}

export const KDF_RANGES = { memoryKiB: [8, 1_048_576], iterations: [1, 16] } as const;
export const DEFAULT_KDF: KdfParams = Object.freeze({
  algorithm: 'argon2id',
  version: 19,
  memoryKiB: 65_536,
  iterations: 1,
  parallelism: 1,
});
/** OWASP's smallest recommended Argon2id setting (19 MiB × 2 passes, or as much memory × passes); below it the agent warns at every start. */
export const KDF_FLOOR = { memoryKiB: 19_456, iterations: 2 } as const;

export const KdfParamsSchema = v.strictObject({
  algorithm: v.literal('argon2id'),
  version: v.literal(19),
  memoryKiB: intRange(...KDF_RANGES.memoryKiB),
  iterations: intRange(...KDF_RANGES.iterations),
  parallelism: v.literal(1),
});

export function isBelowFloor(params: KdfParams): boolean {
  return params.memoryKiB * params.iterations < KDF_FLOOR.memoryKiB * KDF_FLOOR.iterations;
}

/** Limits concurrent evaluations to the number of cores. */
class ConcurrencyLimit {
  #active = 0;
  readonly #waiting: (() => void)[] = [];
  constructor(readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#active >= this.limit) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#active++;
    try {
      return await task();
    } finally {
      this.#active--;
      this.#waiting.shift()?.();
    }
  }
}

/** Concurrent evaluations: one per core. */
export const KDF_PARALLELISM = Math.max(1, availableParallelism());

const evaluations = new ConcurrencyLimit(KDF_PARALLELISM);
let argon2: typeof import('@node-rs/argon2') | undefined;

/**
 * Evaluations this small (memory × passes, KiB) take less time than a round trip through the
 * thread pool (~0.1 ms), so they run inline. Only settings far below the floor (tests,
 * benchmarks) are this small; the default is 1,000 times larger.
 */
export const INLINE_KDF_MAX_KIB_PASSES = 64;

/** Argon2id(pin, salt) with the pool's parameters; the caller owns and wipes the result. */
export async function computeVerifier(pin: Uint8Array, salt: Uint8Array, params: KdfParams): Promise<Uint8Array> {
  if (salt.length !== VERIFIER_SALT_BYTES) throw new RangeError(`salt must be ${VERIFIER_SALT_BYTES} bytes`);
  argon2 ??= requireCjs('@node-rs/argon2') as typeof import('@node-rs/argon2');
  const library = argon2;
  const options = {
    algorithm: ARGON2ID as never,
    version: VERSION_0x13 as never,
    memoryCost: params.memoryKiB,
    timeCost: params.iterations,
    parallelism: params.parallelism,
    outputLen: VERIFIER_HASH_BYTES,
    salt,
  };
  const hash =
    params.memoryKiB * params.iterations <= INLINE_KDF_MAX_KIB_PASSES
      ? library.hashRawSync(pin, options)
      : await evaluations.run(() => library.hashRaw(pin, options));
  return new Uint8Array(hash.buffer, hash.byteOffset, hash.byteLength);
}
