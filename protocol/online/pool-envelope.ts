/**
 * The pool envelope (docs/online-protocol.md "Replenishment"): a new pool's seed sealed to the
 * phone's box key and signed by the workstation. The Control Center relays ciphertext only.
 */
import * as v from 'valibot';
import type { PinCharset } from '../offline-pin.js';
import { fromBase64url, toBase64url } from './base64url.js';
import { canonicalJson, transcript } from './canonical-json.js';
import { openFrom, sealTo } from './sealed-box.js';
import { sign, verify, type CryptoKey } from '../crypto/webcrypto.js';
import { refusal, type Refusal } from '../refusal.js';

export const ENVELOPE_LABEL = 'latchkey-pool-envelope-v1';
const encoder = new TextEncoder();

export interface PoolContents {
  readonly deliveryId: string;
  readonly poolId: string;
  readonly workstationId: string;
  readonly user: string;
  /** base64url of the 32-byte seed. */
  readonly seed: string;
  readonly charset: PinCharset;
  readonly length: number;
  readonly counter: number;
  readonly count: number;
  readonly issuedAt: number;
}

export interface PoolEnvelope {
  readonly v: 1;
  readonly deliveryId: string;
  readonly deviceId: string;
  readonly user: string;
  readonly eph: string;
  readonly nonce: string;
  readonly ciphertext: string;
  readonly signature: string;
}

export const PoolEnvelopeSchema = v.strictObject({
  v: v.literal(1),
  deliveryId: v.pipe(v.string(), v.maxLength(128)),
  deviceId: v.pipe(v.string(), v.maxLength(128)),
  user: v.pipe(v.string(), v.minLength(1), v.maxLength(256)),
  eph: v.pipe(v.string(), v.length(43)),
  nonce: v.pipe(v.string(), v.length(16)),
  ciphertext: v.pipe(v.string(), v.maxLength(4096)),
  signature: v.pipe(v.string(), v.length(86)),
});

const PoolContentsSchema = v.strictObject({
  deliveryId: v.string(),
  poolId: v.string(),
  workstationId: v.string(),
  user: v.string(),
  seed: v.pipe(v.string(), v.length(43)),
  charset: v.picklist(['alphanumeric', 'numeric']),
  length: v.pipe(v.number(), v.integer(), v.minValue(6), v.maxValue(13)),
  counter: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
  count: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(100)),
  issuedAt: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
});

function signedPart(envelope: Omit<PoolEnvelope, 'signature' | 'v'>) {
  const { deliveryId, deviceId, user, eph, nonce, ciphertext } = envelope;
  return transcript(ENVELOPE_LABEL, { deliveryId, deviceId, user, eph, nonce, ciphertext });
}

export async function sealPoolEnvelope(
  contents: PoolContents,
  deviceId: string,
  deviceBoxKey: Uint8Array,
  workstationKey: CryptoKey,
): Promise<PoolEnvelope> {
  const plaintext = encoder.encode(canonicalJson({ ...contents }));
  const box = await sealTo(deviceBoxKey, plaintext, encoder.encode(contents.deliveryId), ENVELOPE_LABEL);
  plaintext.fill(0);
  const unsigned = {
    deliveryId: contents.deliveryId,
    deviceId,
    user: contents.user,
    eph: toBase64url(box.eph),
    nonce: toBase64url(box.nonce),
    ciphertext: toBase64url(box.ciphertext),
  };
  return { v: 1, ...unsigned, signature: toBase64url(await sign(workstationKey, signedPart(unsigned))) };
}

export type EnvelopeOpening =
  | { ok: true; contents: PoolContents }
  | Refusal<'envelope-malformed' | 'envelope-signature' | 'envelope-undecryptable' | 'envelope-mismatch'>;

/** The phone's side: check the workstation's signature, open, and check the ids inside. */
export async function openPoolEnvelope(
  input: unknown,
  workstationKey: Uint8Array,
  deviceBoxPrivate: CryptoKey,
  deviceBoxPublic: Uint8Array,
  expect: { deviceId: string; workstationId: string },
): Promise<EnvelopeOpening> {
  const parsed = v.safeParse(PoolEnvelopeSchema, input);
  if (!parsed.success) return refusal('envelope-malformed', 'the pool envelope is malformed');
  const envelope = parsed.output;
  let signature: Uint8Array;
  let box: { eph: Uint8Array; nonce: Uint8Array; ciphertext: Uint8Array };
  try {
    signature = fromBase64url(envelope.signature);
    box = {
      eph: fromBase64url(envelope.eph),
      nonce: fromBase64url(envelope.nonce),
      ciphertext: fromBase64url(envelope.ciphertext),
    };
  } catch {
    return refusal('envelope-malformed', 'the pool envelope has bad base64url');
  }
  if (!(await verify(workstationKey, signature, signedPart(envelope))))
    return refusal('envelope-signature', 'the pool envelope is not signed by the paired workstation');
  if (envelope.deviceId !== expect.deviceId)
    return refusal('envelope-mismatch', 'the pool envelope is for another device');
  const plaintext = await openFrom(
    deviceBoxPrivate,
    deviceBoxPublic,
    box,
    encoder.encode(envelope.deliveryId),
    ENVELOPE_LABEL,
  );
  if (plaintext === null)
    return refusal('envelope-undecryptable', 'the pool envelope does not open with this device key');
  let contents: v.SafeParseResult<typeof PoolContentsSchema>;
  try {
    contents = v.safeParse(PoolContentsSchema, JSON.parse(new TextDecoder().decode(plaintext)));
  } finally {
    plaintext.fill(0);
  }
  if (!contents.success) return refusal('envelope-malformed', 'the pool inside the envelope is malformed');
  const pool = contents.output;
  if (
    pool.deliveryId !== envelope.deliveryId ||
    pool.workstationId !== expect.workstationId ||
    pool.user !== envelope.user
  )
    return refusal('envelope-mismatch', 'the pool inside the envelope does not match its envelope');
  return { ok: true, contents: pool };
}
