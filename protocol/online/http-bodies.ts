/**
 * Request and response bodies of the Control Center API (docs/online-protocol.md), one schema
 * each. The server validates requests with them at its boundary; agent and phone validate
 * responses with them (fail closed). Keys are base64url raw 32-byte keys (43 chars);
 * signatures and MACs base64url (86 / 43 chars).
 */
import * as v from 'valibot';
import { PolicyInputSchema } from '../policy-settings.js';
import { CredentialRequestSchema, ReleaseSchema } from './credential-release.js';
import { idPattern } from './ids.js';
import { PoolEnvelopeSchema } from './pool-envelope.js';
import { PolicyDocumentSchema } from './signed-policy.js';

export const MAX_BODY_BYTES = 64 * 1024;
export const MAX_WAIT_SECONDS = 30;
export const MAX_AUTH_REQUEST_TTL_MS = 120_000;
export const MAX_EVENTS_PER_REQUEST = 500;

const key32 = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{43}$/, 'must be a base64url 32-byte key'));
const signature = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{86}$/, 'must be a base64url Ed25519 signature'));
const mac = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{43}$/, 'must be a base64url HMAC-SHA-256'));
const name = v.pipe(
  v.string(),
  v.minLength(1),
  v.maxLength(128),
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what this pattern is for
  v.regex(/^[^\u0000-\u001f\u007f]+$/, 'must not contain control characters'),
);
const user = v.pipe(
  v.string(),
  v.minLength(1),
  v.maxLength(256),
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what this pattern is for
  v.regex(/^[^/\u0000-\u001f\u007f]+$/, 'must be an OS user name'),
);
/** A typed id (ids.ts) in a body, a query or a path. */
export const idSchema = (prefix: Parameters<typeof idPattern>[0]) =>
  v.pipe(v.string(), v.regex(idPattern(prefix), `must be a ${prefix}_ id`));
const millis = v.pipe(v.number(), v.safeInteger(), v.minValue(0));
export const PAIRING_ID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{5}$/;
const pairingId = v.pipe(v.string(), v.regex(PAIRING_ID_PATTERN, 'must be 5 Crockford symbols'));

/** The closed set of error codes an answer may carry (docs/online-protocol.md "Errors"); a client maps any other to `internal`. */
export const WIRE_ERROR_CODES = [
  'bad-request',
  'body-too-large',
  'unauthenticated',
  'forbidden',
  'not-found',
  'conflict',
  'gone',
  'rate-limited',
  'internal',
] as const;
export type WireErrorCode = (typeof WIRE_ERROR_CODES)[number];

export const ErrorBodySchema = v.object({ error: v.object({ code: v.string(), message: v.string() }) });
export type ErrorBody = v.InferOutput<typeof ErrorBodySchema>;

export const SignedPolicySchema = v.strictObject({ policy: PolicyDocumentSchema, signature });

// Workstation enrollment
export const EnrollRequestSchema = v.strictObject({
  installToken: v.pipe(v.string(), v.regex(/^lk_install_[A-Za-z0-9_-]{43}$/, 'must be an install token')),
  name,
  publicKey: key32,
  proof: signature,
});
export const EnrollResponseSchema = v.strictObject({
  workstationId: idSchema('ws'),
  tenantId: idSchema('t'),
  ccKey: key32,
  ccBoxKey: key32,
  policy: PolicyDocumentSchema,
  signature,
});

// Pairing
export const CreatePairingRequestSchema = v.strictObject({ user });
export const CreatePairingResponseSchema = v.strictObject({ pairingId, expiresAt: millis });
export const PutWorkstationMacRequestSchema = v.strictObject({ workstationMac: mac });
export const RedeemPairingRequestSchema = v.strictObject({
  pairingId,
  signingKey: key32,
  boxKey: key32,
  name,
  credentialKey: v.optional(key32),
  proof: signature,
  deviceMac: mac,
});
export const RedeemPairingResponseSchema = v.strictObject({
  deviceId: idSchema('dev'),
  workstationId: idSchema('ws'),
  workstationName: name,
  workstationKey: key32,
  user,
  ccKey: key32,
  workstationMac: mac,
});
export const PairingStatusResponseSchema = v.variant('status', [
  v.strictObject({ status: v.literal('pending'), expiresAt: millis }),
  v.strictObject({
    status: v.literal('redeemed'),
    device: v.strictObject({
      deviceId: idSchema('dev'),
      signingKey: key32,
      boxKey: key32,
      name,
      credentialKey: v.optional(key32),
      deviceMac: mac,
    }),
  }),
  v.strictObject({ status: v.picklist(['confirmed', 'rejected', 'expired', 'burnt']) }),
]);
export const ConfirmPairingRequestSchema = v.strictObject({ accept: v.boolean() });

// Online sign-in
export const CreateAuthRequestSchema = v.strictObject({
  user,
  challenge: key32,
  ttlMs: v.pipe(v.number(), v.integer(), v.minValue(1000), v.maxValue(MAX_AUTH_REQUEST_TTL_MS)),
  intentId: v.optional(idSchema('in')),
  /** Windows lock screen only (docs/windows.md §6.5): relayed to the phone, never interpreted. */
  credential: v.optional(CredentialRequestSchema),
});
export const CreateAuthResponseSchema = v.strictObject({ requestId: idSchema('ar'), expiresAt: millis });
export const AuthStatusResponseSchema = v.variant('status', [
  v.strictObject({ status: v.picklist(['pending', 'expired']) }),
  v.strictObject({
    status: v.picklist(['approved', 'denied']),
    deviceId: idSchema('dev'),
    decision: v.picklist(['approve', 'deny']),
    signedAt: millis,
    signature,
    release: v.optional(ReleaseSchema),
  }),
]);
export const DecisionRequestSchema = v.strictObject({
  decision: v.picklist(['approve', 'deny']),
  signedAt: millis,
  signature,
  /** The copy key sealed to the request key (docs/windows.md §6.5): only in an approval of a credential request. */
  release: v.optional(ReleaseSchema),
});
export const SignInIntentRequestSchema = v.strictObject({ workstationId: idSchema('ws'), user });
export const SignInIntentResponseSchema = v.strictObject({ intentId: idSchema('in'), expiresAt: millis });

// Replenishment
export const PutPoolDeliveryRequestSchema = v.strictObject({
  user,
  deviceId: idSchema('dev'),
  envelope: PoolEnvelopeSchema,
});
export const PoolDeliveryStatusResponseSchema = v.variant('status', [
  v.strictObject({ status: v.literal('pending') }),
  v.strictObject({ status: v.literal('confirmed'), poolId: v.pipe(v.string(), v.maxLength(128)), signature }),
]);
export const ConfirmPoolRequestSchema = v.strictObject({ poolId: v.pipe(v.string(), v.maxLength(128)), signature });

// Inboxes (long-poll)
export const DeviceInboxResponseSchema = v.strictObject({
  authRequests: v.array(
    v.strictObject({
      requestId: idSchema('ar'),
      workstationId: idSchema('ws'),
      workstationName: name,
      user,
      challenge: key32,
      createdAt: millis,
      expiresAt: millis,
      intentId: v.nullable(idSchema('in')),
      credential: v.optional(CredentialRequestSchema),
    }),
  ),
  poolDeliveries: v.array(
    v.strictObject({ deliveryId: idSchema('pd'), workstationId: idSchema('ws'), user, envelope: PoolEnvelopeSchema }),
  ),
});
/** `lockoutResets` is sent only when there is one (docs/online-protocol.md "Lockout reset"). */
export const WorkstationInboxResponseSchema = v.strictObject({
  intents: v.array(
    v.strictObject({ intentId: idSchema('in'), user, deviceId: idSchema('dev'), createdAt: millis, expiresAt: millis }),
  ),
  lockoutResets: v.optional(v.array(v.strictObject({ resetId: idSchema('lr'), user, requestedAt: millis }))),
});
export const LockoutResetDoneRequestSchema = v.strictObject({ result: v.picklist(['cleared', 'no-state']) });
export const DeviceWorkstationsResponseSchema = v.strictObject({
  workstations: v.array(
    v.strictObject({ workstationId: idSchema('ws'), workstationName: name, user, settings: PolicyInputSchema }),
  ),
});

// Events and recovery PINs
export const EVENT_TYPES = [
  'verify',
  'enroll',
  'unenroll',
  'reset',
  'online-auth',
  'ble-auth',
  'recovery-pin',
  'pairing',
  'replenish',
  'credential-capture',
  'credential-refused',
] as const;
export const EventSchema = v.strictObject({
  id: idSchema('ev'),
  time: millis,
  type: v.picklist(EVENT_TYPES),
  user,
  result: v.pipe(v.string(), v.maxLength(32)),
  reason: v.nullable(v.pipe(v.string(), v.maxLength(48))),
  context: v.nullable(v.pipe(v.string(), v.maxLength(128))),
  /** This many more identical refusals came since `since` (the agent's audit counts them, docs/state-files.md "Audit log"). */
  repeated: v.optional(v.pipe(v.number(), v.safeInteger(), v.minValue(1))),
  since: v.optional(millis),
});
export const PostEventsRequestSchema = v.strictObject({
  events: v.pipe(v.array(EventSchema), v.maxLength(MAX_EVENTS_PER_REQUEST)),
});
export const PostEventsResponseSchema = v.strictObject({
  stored: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
  duplicates: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
});
export const PutRecoveryPinRequestSchema = v.strictObject({
  eph: key32,
  nonce: v.pipe(v.string(), v.length(16)),
  ciphertext: v.pipe(v.string(), v.maxLength(256)),
});
export const PutRecoveryPinResponseSchema = v.strictObject({ storedAt: millis });
export const RevealRecoveryPinRequestSchema = v.strictObject({ workstationId: idSchema('ws'), user });
export const RevealRecoveryPinResponseSchema = v.strictObject({
  pin: v.pipe(v.string(), v.regex(/^[0-9A-HJKMNP-TV-Z]{12}$/)),
});

// Admin settings
export const SettingsSchema = PolicyInputSchema;
