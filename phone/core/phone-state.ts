/**
 * The phone's state (docs/phone.md "What the phone keeps"): the device keys, and one pairing per
 * (workstation, user) with its settings and pools. It is what the vault encrypts; the schema is
 * checked on every read because the vault file is a trust boundary (STYLE.md §4).
 */
import * as v from 'valibot';
import { idPattern } from '../../protocol/online/ids.js';
import { PolicyInputSchema, type Policy } from '../../protocol/policy-settings.js';

const b64u = (bytes: number) => v.pipe(v.string(), v.length(Math.ceil((bytes * 4) / 3)), v.regex(/^[A-Za-z0-9_-]+$/));
const millis = v.pipe(v.number(), v.safeInteger(), v.minValue(0));
const text = (max: number) => v.pipe(v.string(), v.minLength(1), v.maxLength(max));

export const StoredPoolSchema = v.strictObject({
  deliveryId: text(128),
  poolId: text(128),
  /** base64url of the 32-byte seed. */
  seed: b64u(32),
  charset: v.picklist(['alphanumeric', 'numeric']),
  length: v.pipe(v.number(), v.integer(), v.minValue(6), v.maxValue(13)),
  /** The first counter of the pool and how many PINs it has: counters start … start+count−1. */
  start: millis,
  count: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(100)),
  /** The next counter to show. */
  next: millis,
  issuedAt: millis,
  receivedAt: millis,
  /** When a confirmation of this (pending) pool was first sent without an answer. */
  confirmTriedAt: v.optional(millis),
});
export type StoredPool = v.InferOutput<typeof StoredPoolSchema>;

/** The pairing's credential key (docs/windows.md §6.3): kept only inside the vault, never sent. */
export const CredentialKeySchema = v.strictObject({
  pkcs8: v.pipe(v.string(), v.maxLength(256), v.regex(/^[A-Za-z0-9_-]+$/)),
  public: b64u(32),
});

export const PairingSchema = v.strictObject({
  workstationId: v.pipe(v.string(), v.regex(idPattern('ws'))),
  workstationName: text(128),
  user: text(256),
  deviceId: v.pipe(v.string(), v.regex(idPattern('dev'))),
  url: text(2048),
  workstationKey: b64u(32),
  ccKey: b64u(32),
  pairedAt: millis,
  settings: v.nullable(PolicyInputSchema),
  settingsAt: v.nullable(millis),
  pool: v.nullable(StoredPoolSchema),
  pendingPool: v.nullable(StoredPoolSchema),
  lastApprovedAt: v.nullable(millis),
  /** Absent for pairings made before it (docs/windows.md §6.3). */
  credentialKey: v.optional(CredentialKeySchema),
});
export type Pairing = Omit<v.InferOutput<typeof PairingSchema>, 'settings'> & { settings: Policy | null };

export const DeviceSchema = v.strictObject({
  name: text(128),
  signingPkcs8: v.pipe(v.string(), v.maxLength(256)),
  signingPublic: b64u(32),
  boxPkcs8: v.pipe(v.string(), v.maxLength(256)),
  boxPublic: b64u(32),
  createdAt: millis,
});
export type Device = v.InferOutput<typeof DeviceSchema>;

/**
 * A workstation paired over Bluetooth (docs/ble-protocol.md §1, §12): no Control Center, no
 * pools — the keys of the unlock protocol. Keys are base64url of 32 raw bytes.
 */
export const BlePairingSchema = v.strictObject({
  /** `ble-` and the pairing id of the code; the workstation knows the phone by the same id. */
  id: v.pipe(v.string(), v.regex(/^ble-[0-9A-HJKMNP-TV-Z]{5}$/)),
  /** What the workstation called itself: "alice on ws-1". */
  workstationName: text(128),
  pairingKey: b64u(32),
  /** This phone's Ed25519 identity for this pairing: the private seed. */
  identitySeed: b64u(32),
  workstationKey: b64u(32),
  pairedAt: millis,
  /** Absent for pairings made before it (docs/windows.md §6.3). */
  credentialKey: v.optional(CredentialKeySchema),
});
export type BlePairing = v.InferOutput<typeof BlePairingSchema>;

export const PhoneStateSchema = v.strictObject({
  v: v.literal(1),
  device: DeviceSchema,
  pairings: v.pipe(v.array(PairingSchema), v.maxLength(1000)),
  blePairings: v.optional(v.pipe(v.array(BlePairingSchema), v.maxLength(100))),
});
export interface PhoneState {
  v: 1;
  device: Device;
  pairings: Pairing[];
  blePairings?: BlePairing[];
}

/** Null when `input` is not a phone state (the caller names the error). */
export function parsePhoneState(input: unknown): PhoneState | null {
  const parsed = v.safeParse(PhoneStateSchema, input);
  return parsed.success ? (parsed.output as PhoneState) : null;
}

export function remainingIn(pool: StoredPool): number {
  return Math.max(0, pool.start + pool.count - pool.next);
}

export function samePairing(
  a: { workstationId: string; user: string },
  b: { workstationId: string; user: string },
): boolean {
  return a.workstationId === b.workstationId && a.user === b.user;
}
