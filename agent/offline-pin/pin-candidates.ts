/**
 * What a typed PIN is checked against (docs/offline-pins.md "Accepting a PIN"): every usable
 * pool's verifiers, pending pools' too (a PIN from a pool the phone has not confirmed yet is the
 * confirmation: docs/online-protocol.md "Replenishment"), and the recovery PIN. Each source's
 * next PIN is tried first, on its own round, so the common case costs one evaluation.
 */
import { wipe } from '../../protocol/bytes.js';
import { pinCredentialSeedOf, pinVerifierOf } from '../../protocol/credential-wrap.js';
import { equalBytes } from '../../protocol/crypto/hashes.js';
import type { KdfParams, VerifierFormat } from './kdf.js';
import type { VerifierFunction } from './offline-pin-pool.js';
import type { PendingPool, PoolState, RecoveryPinState, Verifier } from '../state/user-state.js';
import type { TypedPin } from './typed-pin.js';

export const RECOVERY_PIN_LENGTH = 12;

export type Source =
  | { readonly kind: 'pool'; readonly pool: PoolState }
  | { readonly kind: 'pending'; readonly pending: PendingPool }
  | { readonly kind: 'recovery'; readonly recovery: RecoveryPinState };

export interface Candidate {
  readonly source: Source;
  /** The pool counter, or -1 for the recovery PIN. */
  readonly counter: number;
  readonly salt: Uint8Array;
  readonly hash: Uint8Array;
  readonly kdf: KdfParams;
  /** How `hash` was made from Argon2id: absent, the raw output (older pools, the recovery PIN). */
  readonly format?: VerifierFormat;
  readonly pin: Uint8Array;
}

/** The candidate that matched and, from an `argon2id-hkdf-v1` pool when asked for, seed_c (the caller wipes it). */
export interface Match {
  readonly candidate: Candidate;
  readonly credentialSeed: Uint8Array | null;
}

function poolOf(source: Source): PoolState | null {
  return source.kind === 'pool' ? source.pool : source.kind === 'pending' ? source.pending.pool : null;
}

/** The candidates one source offers, made only when asked for (a valid PIN needs just the first). */
type CandidateList = (offset: number) => Candidate | undefined;

export interface Candidates {
  /** Each source's next PIN: the common case, tried first. */
  readonly firstRound: Candidate[];
  /** The rest, interleaved across sources, for when no first-round candidate matched. */
  rest(): Candidate[];
}

/** Candidates in the order to try them; their PINs are `typed`'s normalised forms (the caller wipes `typed`). */
export function candidatesFor(sources: readonly Source[], typed: TypedPin): Candidates {
  const lists: { at: CandidateList; length: number }[] = [];
  for (const source of sources) {
    const pool = poolOf(source);
    const pin = typed.as(pool?.charset ?? 'alphanumeric');
    if (pin === null) continue;
    if (pool !== null) {
      if (pin.length !== pool.length || pool.verifiers.length === 0) continue;
      const at = (offset: number) => {
        const verifier: Verifier | undefined = pool.verifiers[offset];
        return (
          verifier && {
            source,
            counter: verifier.c,
            salt: verifier.salt,
            hash: verifier.hash,
            kdf: pool.kdf,
            ...(pool.verifier ? { format: pool.verifier } : {}),
            pin,
          }
        );
      };
      lists.push({ at, length: pool.verifiers.length });
    } else if (source.kind === 'recovery' && pin.length === RECOVERY_PIN_LENGTH) {
      const only: Candidate = {
        source,
        counter: -1,
        salt: source.recovery.salt,
        hash: source.recovery.hash,
        kdf: source.recovery.kdf,
        pin,
      };
      lists.push({ at: (offset) => (offset === 0 ? only : undefined), length: 1 });
    }
  }
  const rest = () => {
    const candidates: Candidate[] = [];
    const longest = Math.max(0, ...lists.map((list) => list.length));
    for (let offset = 1; offset < longest; offset++)
      for (const list of lists) {
        const candidate = list.at(offset);
        if (candidate) candidates.push(candidate);
      }
    return candidates;
  };
  return { firstRound: lists.map((list) => list.at(0)!), rest };
}

/**
 * The first candidate whose verifier matches, evaluating at most `parallelism` at once: one
 * Argon2id per candidate whatever its format (docs/windows.md §6.2). With `wantCredentialSeed`,
 * a match from an `argon2id-hkdf-v1` pool also yields seed_c from the same evaluation.
 */
export async function firstMatch(
  candidates: Candidates,
  verifierOf: VerifierFunction,
  parallelism: number,
  wantCredentialSeed = false,
): Promise<Match | null> {
  let found: Match | null = null;
  const run = async (slice: readonly Candidate[]) => {
    let index = 0;
    const worker = async () => {
      while (found === null && index < slice.length) {
        const candidate = slice[index++]!;
        const argon2 = await verifierOf(candidate.pin, candidate.salt, candidate.kdf);
        const hash = candidate.format === undefined ? argon2 : pinVerifierOf(argon2);
        if (equalBytes(hash, candidate.hash) && found === null)
          found = {
            candidate,
            credentialSeed: wantCredentialSeed && candidate.format !== undefined ? pinCredentialSeedOf(argon2) : null,
          };
        wipe(hash, argon2);
      }
    };
    await Promise.all(Array.from({ length: Math.min(parallelism, slice.length) }, worker));
  };
  await run(candidates.firstRound);
  if (found === null) await run(candidates.rest());
  return found;
}
