/**
 * Issuing a pool (docs/offline-pins.md "Pools"): draw a seed, derive every PIN, keep per counter
 * only a salt, the verifier and the credential key's public half made from one Argon2id evaluation
 * (format `argon2id-hkdf-v1`, docs/windows.md §6.2), hand the seed out once and wipe it.
 */
import { buildEnrollmentUri } from '../../protocol/enrollment-uri.js';
import { SEED_BYTES, deriveOfflinePin, type PinFormat } from '../../protocol/offline-pin.js';
import { toHex, wipe } from '../../protocol/bytes.js';
import { randomBytes } from '../../protocol/crypto/hashes.js';
import { pinCredentialSeedOf, pinVerifierOf, x25519PairFromSeed } from '../../protocol/credential-wrap.js';
import { HKDF_VERIFIER_FORMAT, VERIFIER_SALT_BYTES, computeVerifier, type KdfParams } from './kdf.js';
import type { ClockReading } from '../../platform/clock.js';
import type { PoolState, Verifier } from '../state/user-state.js';

export type VerifierFunction = (pin: Uint8Array, salt: Uint8Array, params: KdfParams) => Promise<Uint8Array>;

export interface IssuePoolOptions {
  readonly user: string;
  readonly host: string;
  readonly authenticatorId: string;
  readonly format: PinFormat;
  readonly pinCount: number;
  readonly kdf: KdfParams;
  readonly now: ClockReading;
  /** Injected for tests of pure logic; the real Argon2id otherwise. */
  readonly verifier?: VerifierFunction;
  /** Receives the seed (and the pool) before it is wiped, e.g. to seal it to a phone. */
  readonly sealSeed?: (seed: Uint8Array, pool: PoolState) => Promise<void>;
}

export interface IssuedPool {
  readonly pool: PoolState;
  /** The import URI for the phone (it carries the seed). The caller wipes it after sending. */
  readonly importUri: Uint8Array;
}

/** docs/windows.md §6.2: verifier_c and P_c from one Argon2id output; A_c and seed_c are wiped here. */
async function derivedFromArgon2(argon2: Uint8Array): Promise<{ hash: Uint8Array; credentialKey: Uint8Array }> {
  const seed = pinCredentialSeedOf(argon2);
  try {
    return { hash: pinVerifierOf(argon2), credentialKey: (await x25519PairFromSeed(seed)).publicKey };
  } finally {
    wipe(argon2, seed);
  }
}

export async function issuePool(options: IssuePoolOptions): Promise<IssuedPool> {
  const verifierOf = options.verifier ?? computeVerifier;
  const seed = randomBytes(SEED_BYTES);
  const pins: Uint8Array[] = [];
  try {
    for (let c = 0; c < options.pinCount; c++) pins.push(deriveOfflinePin(seed, c, options.format));
    const verifiers: Verifier[] = await Promise.all(
      pins.map(async (pin, c) => {
        const salt = randomBytes(VERIFIER_SALT_BYTES);
        return { c, salt, ...(await derivedFromArgon2(await verifierOf(pin, salt, options.kdf))) };
      }),
    );
    const pool: PoolState = {
      authenticatorId: options.authenticatorId,
      poolId: toHex(randomBytes(16)),
      charset: options.format.charset,
      length: options.format.length,
      start: 0,
      next: 0,
      limit: options.pinCount,
      issuedAtMs: options.now.wallMs,
      issuedBootId: options.now.bootId,
      issuedUptimeMs: options.now.uptimeMs,
      kdf: options.kdf,
      verifier: HKDF_VERIFIER_FORMAT,
      verifiers,
    };
    await options.sealSeed?.(seed, pool);
    const importUri = buildEnrollmentUri({
      user: options.user,
      host: options.host,
      authenticatorId: options.authenticatorId,
      format: options.format,
      counter: 0,
      count: options.pinCount,
      seed,
    });
    return { pool, importUri };
  } finally {
    wipe(seed, ...pins);
  }
}
