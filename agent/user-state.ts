/**
 * One user's state: pools and anti-hammering (docs/state-files.md "User state file"). This
 * module holds the types and the schema that every decrypted file must pass; sealing and I/O
 * live in user-state-store.ts.
 */
import * as v from 'valibot';
import { PIN_LENGTH_RANGE, type PinCharset } from '../protocol/offline-pin.js';
import type { HammeringState } from './anti-hammering.js';
import type { ClockReading } from './clock.js';
import { DAY_MS } from '../protocol/policy-settings.js';
import { FRESH_HAMMERING, MAX_WRONG_TAGS } from './anti-hammering.js';
import { KdfParamsSchema, VERIFIER_HASH_BYTES, VERIFIER_SALT_BYTES, type KdfParams } from './kdf.js';

export const MAX_POOLS_PER_USER = 16;
export const MAX_POOL_SIZE = 100;
export const AUTHENTICATOR_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
export const DEFAULT_AUTHENTICATOR_ID = 'phone';

export interface Verifier {
  readonly c: number;
  readonly salt: Uint8Array;
  readonly hash: Uint8Array;
}

export interface PoolState {
  readonly authenticatorId: string;
  readonly poolId: string;
  readonly charset: PinCharset;
  readonly length: number;
  readonly start: number;
  readonly next: number;
  readonly limit: number;
  /** When the pool was issued, on both clocks (its age is measured like a delay: docs/state-files.md). */
  readonly issuedAtMs: number;
  readonly issuedBootId: string;
  readonly issuedUptimeMs: number;
  readonly kdf: KdfParams;
  readonly verifiers: readonly Verifier[];
}

export interface UserState {
  readonly user: string;
  readonly generation: number;
  readonly wallHighWaterMs: number;
  readonly pools: readonly PoolState[];
  readonly hammering: HammeringState;
}

export function emptyUserState(user: string): UserState {
  return { user, generation: 0, wallHighWaterMs: 0, pools: [], hammering: FRESH_HAMMERING };
}

const base64Bytes = (length: number) =>
  v.pipe(
    v.string(),
    v.regex(/^[A-Za-z0-9+/]*={0,2}$/),
    v.transform((text) => new Uint8Array(Buffer.from(text, 'base64'))),
    v.check((bytes) => bytes.length === length, `must decode to ${length} bytes`),
  );
const counter = v.pipe(v.number(), v.safeInteger(), v.minValue(0));

const VerifierSchema = v.strictObject({ c: counter, salt: base64Bytes(VERIFIER_SALT_BYTES), hash: base64Bytes(VERIFIER_HASH_BYTES) });

const PoolSchema = v.pipe(
  v.strictObject({
    authenticatorId: v.pipe(v.string(), v.regex(AUTHENTICATOR_ID_PATTERN)),
    poolId: v.pipe(v.string(), v.regex(/^[0-9a-f]{32}$/)),
    charset: v.picklist(['alphanumeric', 'numeric']),
    length: v.pipe(v.number(), v.integer()),
    start: counter,
    next: counter,
    limit: counter,
    issuedAtMs: counter,
    issuedBootId: v.pipe(v.string(), v.maxLength(64)),
    issuedUptimeMs: counter,
    kdf: KdfParamsSchema,
    verifiers: v.pipe(v.array(VerifierSchema), v.maxLength(MAX_POOL_SIZE)),
  }),
  v.check((pool) => {
    const [min, max] = PIN_LENGTH_RANGE[pool.charset];
    return pool.length >= min && pool.length <= max;
  }, 'pin length out of range for its charset'),
  v.check((pool) => pool.start <= pool.next && pool.next <= pool.limit && pool.limit - pool.start <= MAX_POOL_SIZE, 'counters out of order'),
  v.check(
    (pool) => pool.verifiers.length === pool.limit - pool.next && pool.verifiers.every((verifier, i) => verifier.c === pool.next + i),
    'verifiers must cover next ≤ c < limit in order',
  ),
);

const DelaySchema = v.strictObject({
  remainingMs: counter,
  bootId: v.pipe(v.string(), v.maxLength(64)),
  uptimeMs: counter,
  wallMs: counter,
});

export const UserStateSchema = v.pipe(
  v.strictObject({
    user: v.pipe(v.string(), v.minLength(1), v.maxLength(256)),
    generation: counter,
    wallHighWaterMs: counter,
    pools: v.pipe(v.array(PoolSchema), v.maxLength(MAX_POOLS_PER_USER)),
    hammering: v.strictObject({
      failures: counter,
      disabled: v.boolean(),
      wrongTags: v.pipe(v.array(v.pipe(v.string(), v.regex(/^[0-9a-f]{32}$/))), v.maxLength(MAX_WRONG_TAGS)),
      delay: v.nullable(DelaySchema),
    }),
  }),
  v.check((state) => new Set(state.pools.map((pool) => pool.authenticatorId)).size === state.pools.length, 'one pool per authenticator'),
);

/** The JSON form: bytes as base64. */
export function userStateToJson(state: UserState): unknown {
  return {
    ...state,
    pools: state.pools.map((pool) => ({
      ...pool,
      verifiers: pool.verifiers.map((verifier) => ({
        c: verifier.c,
        salt: Buffer.from(verifier.salt).toString('base64'),
        hash: Buffer.from(verifier.hash).toString('base64'),
      })),
    })),
  };
}

/**
 * How long ago the pool was issued: on the boot clock within the boot it was issued in, else
 * on the wall clock but never before the latest wall time this user's state has seen — so a
 * clock set back does not make a pool younger.
 */
export function poolAgeMs(pool: PoolState, now: ClockReading, wallHighWaterMs: number): number {
  if (pool.issuedBootId === now.bootId) return Math.max(0, now.uptimeMs - pool.issuedUptimeMs);
  return Math.max(0, Math.max(now.wallMs, wallHighWaterMs) - pool.issuedAtMs);
}

export function isExpired(pool: PoolState, offlineAccessDays: number, now: ClockReading, wallHighWaterMs: number): boolean {
  return poolAgeMs(pool, now, wallHighWaterMs) >= offlineAccessDays * DAY_MS;
}

/** When the pool stops working, on the wall clock (for display). */
export function expiresAtMs(pool: PoolState, offlineAccessDays: number, now: ClockReading, wallHighWaterMs: number): number {
  return now.wallMs - poolAgeMs(pool, now, wallHighWaterMs) + offlineAccessDays * DAY_MS;
}

export function remainingOf(pool: PoolState): number {
  return pool.limit - pool.next;
}

export function pinCountOf(pool: PoolState): number {
  return pool.limit - pool.start;
}
