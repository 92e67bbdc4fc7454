/**
 * One user's state: pools, anti-hammering, paired phones and (Windows) the password's wrapped
 * copies (docs/state-files.md "User state file"). This
 * module holds the types and the schema that every decrypted file must pass; sealing and I/O
 * live in user-state-store.ts.
 */
import * as v from 'valibot';
import { PIN_LENGTH_RANGE, type PinCharset } from '../../protocol/offline-pin.js';
import type { HammeringState } from '../offline-pin/anti-hammering.js';
import type { ClockReading } from '../../platform/clock.js';
import { DAY_MS } from '../../protocol/policy-settings.js';
import { FRESH_HAMMERING, MAX_WRONG_TAGS } from '../offline-pin/anti-hammering.js';
import { PoolEnvelopeSchema, type PoolEnvelope } from '../../protocol/online/pool-envelope.js';
import { KEY_BYTES as CREDENTIAL_KEY_BYTES } from '../../protocol/credential-wrap.js';
import { CARRIED_COPIES, WindowsCredentialSchema, copiesCarriable, copiesProblem } from './windows-credential.js';
import { resolveStoredCredential, windowsCredentialToJson } from './windows-credential.js';
import type { WindowsCredentialState } from './windows-credential.js';
import { HKDF_VERIFIER_FORMAT, KdfParamsSchema, VERIFIER_HASH_BYTES, VERIFIER_SALT_BYTES } from '../offline-pin/kdf.js';
import type { KdfParams, VerifierFormat } from '../offline-pin/kdf.js';

export const MAX_POOLS_PER_USER = 16;
export const MAX_POOL_SIZE = 100;
export const AUTHENTICATOR_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
export const DEFAULT_AUTHENTICATOR_ID = 'phone';

export interface Verifier {
  readonly c: number;
  readonly salt: Uint8Array;
  /** Argon2id's output itself, or (pool format `argon2id-hkdf-v1`) verifier_c derived from it. */
  readonly hash: Uint8Array;
  /** P_c (docs/windows.md §6.2): the X25519 public key the PIN's copy of the password is wrapped to; `argon2id-hkdf-v1` pools only. */
  readonly credentialKey?: Uint8Array;
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
  /** How `hash` is made from Argon2id (docs/offline-pins.md "Verifiers at rest"); absent: the raw output (pools issued before it). */
  readonly verifier?: VerifierFormat;
  readonly verifiers: readonly Verifier[];
}

/** A phone paired with this user at this workstation (docs/online-protocol.md "Pairing"). */
export interface PairedDevice {
  readonly deviceId: string;
  readonly name: string;
  /** base64url raw Ed25519 key: approvals and pool confirmations are checked against it. */
  readonly signingKey: string;
  /** base64url raw X25519 key: pools are sealed to it. */
  readonly boxKey: string;
  /** base64url raw X25519 key CK.pub (docs/windows.md §6.3): the phone's copy of the Windows password is wrapped to it. */
  readonly credentialKey?: string;
  readonly pairedAtMs: number;
}

/**
 * A phone paired over Bluetooth with this user here (docs/ble-protocol.md §1, §12): the keys of
 * that pairing, sealed with the rest of the state. Fields are base64url of 32 raw bytes.
 */
export interface BlePhone {
  /** `ble-` and the pairing id of the code it paired with. */
  readonly deviceId: string;
  /** The name the phone gave (shown by `latchkey status`). */
  readonly name: string;
  readonly pairingKey: string;
  /** This workstation's Ed25519 identity for this pairing: the private seed. */
  readonly workstationSeed: string;
  /** The phone's Ed25519 identity key for this pairing. */
  readonly phoneKey: string;
  /** CK.pub of this pairing (docs/windows.md §6.3), as for a phone paired online. */
  readonly credentialKey?: string;
  readonly pairedAtMs: number;
  /**
   * The phone's attribute handles for the Latchkey service, from pairing or the last unlock, so
   * an unlock skips GATT discovery even after a restart (docs/ble-protocol.md §3). Not secret.
   */
  readonly gatt?: BleGattHandles;
}

/** docs/ble-protocol.md §3: the control point's and the response's value handles, and the response's CCCD right after it. */
export interface BleGattHandles {
  readonly controlPoint: number;
  readonly response: number;
  readonly cccd: number;
}

/** A pool sent to a phone and not yet confirmed (docs/online-protocol.md "Replenishment"). */
export interface PendingPool {
  readonly deliveryId: string;
  readonly deviceId: string;
  /** True once the Control Center has the envelope. */
  readonly uploaded: boolean;
  readonly pool: PoolState;
  /** The seed sealed to the phone (only the phone can open it), kept to retry the upload. */
  readonly envelope: PoolEnvelope;
}

/** The one-time recovery PIN's verifier (docs/online-protocol.md "Recovery PIN"). */
export interface RecoveryPinState {
  readonly salt: Uint8Array;
  readonly hash: Uint8Array;
  readonly kdf: KdfParams;
  readonly createdAtMs: number;
  /** True once the Control Center holds the sealed PIN. */
  readonly uploaded: boolean;
}

export interface UserState {
  readonly user: string;
  readonly generation: number;
  readonly wallHighWaterMs: number;
  readonly pools: readonly PoolState[];
  readonly hammering: HammeringState;
  readonly devices: readonly PairedDevice[];
  readonly blePhones: readonly BlePhone[];
  readonly pendingPools: readonly PendingPool[];
  readonly recovery: RecoveryPinState | null;
  /** The last successful online sign-in (R2: offline PINs exist only after one). */
  readonly onlineAuthAtMs: number | null;
  /** The Windows password, only wrapped (docs/windows.md §6.4); null elsewhere and before a capture. */
  readonly windowsCredential: WindowsCredentialState | null;
}

export function emptyUserState(user: string): UserState {
  return {
    user,
    generation: 0,
    wallHighWaterMs: 0,
    pools: [],
    hammering: FRESH_HAMMERING,
    devices: [],
    blePhones: [],
    pendingPools: [],
    recovery: null,
    onlineAuthAtMs: null,
    windowsCredential: null,
  };
}

/**
 * In a journal record, a pool's `verifiers` may be this instead of the list: the previous
 * record's verifiers for the same pool, less the spent ones (docs/state-files.md "Carried verifiers").
 */
export const CARRIED_VERIFIERS = 'previous-record';

const base64Bytes = (length: number) =>
  v.pipe(
    v.string(),
    v.regex(/^[A-Za-z0-9+/]*={0,2}$/),
    v.transform((text) => new Uint8Array(Buffer.from(text, 'base64'))),
    v.check((bytes) => bytes.length === length, `must decode to ${length} bytes`),
  );
const counter = v.pipe(v.number(), v.safeInteger(), v.minValue(0));

const VerifierSchema = v.strictObject({
  c: counter,
  salt: base64Bytes(VERIFIER_SALT_BYTES),
  hash: base64Bytes(VERIFIER_HASH_BYTES),
  credentialKey: v.optional(base64Bytes(CREDENTIAL_KEY_BYTES)),
});

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
    verifier: v.optional(v.literal(HKDF_VERIFIER_FORMAT)),
    verifiers: v.union([v.pipe(v.array(VerifierSchema), v.maxLength(MAX_POOL_SIZE)), v.literal(CARRIED_VERIFIERS)]),
  }),
  v.check((pool) => {
    const [min, max] = PIN_LENGTH_RANGE[pool.charset];
    return pool.length >= min && pool.length <= max;
  }, 'pin length out of range for its charset'),
  v.check(
    (pool) => pool.start <= pool.next && pool.next <= pool.limit && pool.limit - pool.start <= MAX_POOL_SIZE,
    'counters out of order',
  ),
  v.check(
    (pool) => pool.verifiers === CARRIED_VERIFIERS || coversRemaining(pool.verifiers, pool),
    'verifiers must cover next ≤ c < limit in order',
  ),
  v.check(
    (pool) =>
      pool.verifiers === CARRIED_VERIFIERS ||
      pool.verifiers.every((verifier) => (verifier.credentialKey !== undefined) === (pool.verifier !== undefined)),
    'an argon2id-hkdf-v1 pool has a credentialKey for every counter, any other pool none',
  ),
);

function coversRemaining(verifiers: readonly Verifier[], pool: Pick<PoolState, 'next' | 'limit'>): boolean {
  return verifiers.length === pool.limit - pool.next && verifiers.every((verifier, i) => verifier.c === pool.next + i);
}

const DelaySchema = v.strictObject({
  remainingMs: counter,
  bootId: v.pipe(v.string(), v.maxLength(64)),
  uptimeMs: counter,
  wallMs: counter,
});

const key32 = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{43}$/));

const PairedDeviceSchema = v.strictObject({
  deviceId: v.pipe(v.string(), v.regex(AUTHENTICATOR_ID_PATTERN)),
  name: v.pipe(v.string(), v.maxLength(128)),
  signingKey: key32,
  boxKey: key32,
  credentialKey: v.optional(key32),
  pairedAtMs: counter,
});

const attributeHandle = v.pipe(v.number(), v.integer(), v.minValue(0x0001), v.maxValue(0xffff));

const BlePhoneSchema = v.strictObject({
  deviceId: v.pipe(v.string(), v.regex(/^ble-[0-9A-HJKMNP-TV-Z]{5}$/)),
  name: v.pipe(v.string(), v.maxLength(128)),
  pairingKey: key32,
  workstationSeed: key32,
  phoneKey: key32,
  credentialKey: v.optional(key32),
  pairedAtMs: counter,
  gatt: v.optional(
    v.pipe(
      v.strictObject({ controlPoint: attributeHandle, response: attributeHandle, cccd: attributeHandle }),
      v.check((gatt) => gatt.cccd === gatt.response + 1, 'the CCCD is the attribute right after the response value'),
    ),
  ),
});

const PendingPoolSchema = v.strictObject({
  deliveryId: v.pipe(v.string(), v.maxLength(128)),
  deviceId: v.pipe(v.string(), v.regex(AUTHENTICATOR_ID_PATTERN)),
  uploaded: v.boolean(),
  pool: PoolSchema,
  envelope: PoolEnvelopeSchema,
});

const RecoveryPinSchema = v.strictObject({
  salt: base64Bytes(VERIFIER_SALT_BYTES),
  hash: base64Bytes(VERIFIER_HASH_BYTES),
  kdf: KdfParamsSchema,
  createdAtMs: counter,
  uploaded: v.boolean(),
});

export const UserStateSchema = v.pipe(
  v.strictObject({
    user: v.pipe(v.string(), v.minLength(1), v.maxLength(256)),
    generation: counter,
    wallHighWaterMs: counter,
    pools: v.pipe(v.array(PoolSchema), v.maxLength(MAX_POOLS_PER_USER)),
    devices: v.optional(v.pipe(v.array(PairedDeviceSchema), v.maxLength(MAX_POOLS_PER_USER)), []),
    blePhones: v.optional(v.pipe(v.array(BlePhoneSchema), v.maxLength(MAX_POOLS_PER_USER)), []),
    pendingPools: v.optional(v.pipe(v.array(PendingPoolSchema), v.maxLength(MAX_POOLS_PER_USER)), []),
    recovery: v.optional(v.nullable(RecoveryPinSchema), null),
    onlineAuthAtMs: v.optional(v.nullable(counter), null),
    windowsCredential: v.optional(v.nullable(WindowsCredentialSchema), null),
    hammering: v.strictObject({
      failures: counter,
      disabled: v.boolean(),
      wrongTags: v.pipe(v.array(v.pipe(v.string(), v.regex(/^[0-9a-f]{32}$/))), v.maxLength(MAX_WRONG_TAGS)),
      delay: v.nullable(DelaySchema),
    }),
  }),
  v.check(
    (state) => new Set(state.pools.map((pool) => pool.authenticatorId)).size === state.pools.length,
    'one pool per authenticator',
  ),
  v.check(
    (state) => new Set(state.pendingPools.map((pending) => pending.deviceId)).size === state.pendingPools.length,
    'one pending pool per device',
  ),
  v.check(
    (state) => new Set(state.blePhones.map((phone) => phone.deviceId)).size === state.blePhones.length,
    'one record per BLE phone',
  ),
  v.rawCheck(({ dataset, addIssue }) => {
    // Carried copies are checked once resolved (resolveStoredState).
    if (!dataset.typed || dataset.value.windowsCredential?.copies === CARRIED_COPIES) return;
    const problem = copiesProblem(dataset.value as Parameters<typeof copiesProblem>[0]);
    if (problem !== null) addIssue({ message: problem });
  }),
);

/** A record as the schema reads it: a pool's verifiers may still be carried from the previous record. */
export type StoredUserState = v.InferOutput<typeof UserStateSchema>;
type StoredPool = StoredUserState['pools'][number];

const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

function poolsById(state: UserState | null): Map<string, PoolState> {
  const byId = new Map<string, PoolState>();
  for (const pool of state?.pools ?? []) byId.set(pool.poolId, pool);
  for (const pending of state?.pendingPools ?? []) byId.set(pending.pool.poolId, pending.pool);
  return byId;
}

/** The same pool, issued once: everything but `next` and the spent verifiers is unchanged. */
function samePool(
  earlier: PoolState,
  later: Pick<PoolState, 'authenticatorId' | 'charset' | 'length' | 'start' | 'next' | 'limit' | 'kdf' | 'verifier'>,
): boolean {
  const a = earlier.kdf;
  const b = later.kdf;
  return (
    earlier.authenticatorId === later.authenticatorId &&
    earlier.charset === later.charset &&
    earlier.length === later.length &&
    earlier.start === later.start &&
    earlier.limit === later.limit &&
    earlier.next <= later.next &&
    earlier.verifier === later.verifier &&
    a.algorithm === b.algorithm &&
    a.version === b.version &&
    a.memoryKiB === b.memoryKiB &&
    a.iterations === b.iterations &&
    a.parallelism === b.parallelism
  );
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.compare(a, b) === 0;
const sameOptionalBytes = (a: Uint8Array | undefined, b: Uint8Array | undefined) =>
  a === undefined || b === undefined ? a === b : sameBytes(a, b);

/** True when `pool.verifiers` is exactly `earlier`'s list less the spent ones, so a record may carry it. */
function carriable(earlier: PoolState | undefined, pool: PoolState): boolean {
  if (earlier === undefined || !samePool(earlier, pool)) return false;
  const skip = earlier.verifiers.length - pool.verifiers.length;
  if (skip < 0) return false;
  return pool.verifiers.every((verifier, i) => {
    const old = earlier.verifiers[skip + i]!;
    return (
      verifier === old ||
      (verifier.c === old.c &&
        sameBytes(verifier.salt, old.salt) &&
        sameBytes(verifier.hash, old.hash) &&
        sameOptionalBytes(verifier.credentialKey, old.credentialKey))
    );
  });
}

/**
 * The JSON form: bytes as base64. With `previous` (the state of the record just before this one
 * in the same journal), a pool whose verifiers only lost spent ones carries them instead of listing them.
 */
export function userStateToJson(state: UserState, previous: UserState | null = null): unknown {
  const earlier = poolsById(previous);
  const poolToJson = (pool: PoolState): unknown => ({
    ...pool,
    verifiers: carriable(earlier.get(pool.poolId), pool)
      ? CARRIED_VERIFIERS
      : pool.verifiers.map((verifier) => ({
          c: verifier.c,
          salt: base64(verifier.salt),
          hash: base64(verifier.hash),
          ...(verifier.credentialKey ? { credentialKey: base64(verifier.credentialKey) } : {}),
        })),
  });
  const { windowsCredential, ...rest } = state;
  return {
    ...rest,
    // Left out when there is none, so a journal without one reads as before.
    ...(windowsCredential
      ? {
          windowsCredential: windowsCredentialToJson(
            windowsCredential,
            copiesCarriable(state, previous?.windowsCredential ?? null),
          ),
        }
      : {}),
    pools: state.pools.map(poolToJson),
    pendingPools: state.pendingPools.map((pending) => ({ ...pending, pool: poolToJson(pending.pool) })),
    recovery: state.recovery && {
      ...state.recovery,
      salt: base64(state.recovery.salt),
      hash: base64(state.recovery.hash),
    },
  };
}

/**
 * A stored record as a state: carried verifiers taken from `previous` (the record before it; null
 * for the first record of a journal). Throws an Error saying what is wrong; the caller makes it
 * StateUnreadableError.
 */
export function resolveStoredState(stored: StoredUserState, previous: UserState | null): UserState {
  const earlier = poolsById(previous);
  const resolve = (pool: StoredPool): PoolState => {
    if (pool.verifiers !== CARRIED_VERIFIERS) return pool as PoolState;
    const from = earlier.get(pool.poolId);
    if (previous === null) throw new Error(`carries the verifiers of pool ${pool.poolId}, but it is the first record`);
    if (from === undefined || !samePool(from, pool))
      throw new Error(`carries the verifiers of pool ${pool.poolId}, which the previous record does not hold`);
    const verifiers = from.verifiers.filter((verifier) => verifier.c >= pool.next);
    if (!coversRemaining(verifiers, pool))
      throw new Error(`carries verifiers of pool ${pool.poolId} that do not cover next ≤ c < limit`);
    return { ...pool, verifiers };
  };
  const holders = {
    ...stored,
    pools: stored.pools.map(resolve),
    pendingPools: stored.pendingPools.map((pending) => ({ ...pending, pool: resolve(pending.pool) })),
  };
  const state: UserState = {
    ...holders,
    windowsCredential: resolveStoredCredential(stored.windowsCredential, holders, previous?.windowsCredential ?? null),
  };
  if (stored.windowsCredential?.copies === CARRIED_COPIES) {
    const problem = copiesProblem(state);
    if (problem !== null) throw new Error(problem);
  }
  return state;
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

export function isExpired(
  pool: PoolState,
  offlineAccessDays: number,
  now: ClockReading,
  wallHighWaterMs: number,
): boolean {
  return poolAgeMs(pool, now, wallHighWaterMs) >= offlineAccessDays * DAY_MS;
}

/** When the pool stops working, on the wall clock (for display). */
export function expiresAtMs(
  pool: PoolState,
  offlineAccessDays: number,
  now: ClockReading,
  wallHighWaterMs: number,
): number {
  return now.wallMs - poolAgeMs(pool, now, wallHighWaterMs) + offlineAccessDays * DAY_MS;
}

export function remainingOf(pool: PoolState): number {
  return pool.limit - pool.next;
}

export function pinCountOf(pool: PoolState): number {
  return pool.limit - pool.start;
}
