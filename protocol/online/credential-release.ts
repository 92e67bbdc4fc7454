/**
 * The release of a Windows password's phone copy through the Control Center (docs/windows.md
 * §6.5): the workstation's signed credential request in an auth request, and the phone's decision
 * on it — release the copy key k sealed to the request key Q, approve without one, or refuse a
 * request the workstation did not sign. Pure: WebCrypto, no I/O.
 */
import * as v from 'valibot';
import {
  KEY_BYTES,
  copyKeyFor,
  credentialRequestTranscript,
  openRelease,
  sealRelease,
  type ReleaseIds,
  type X25519Pair,
} from '../credential-wrap.js';
import { fromBase64url, toBase64url } from './base64url.js';
import { idPattern } from './ids.js';
import { sign, verify, type CryptoKey } from '../crypto/webcrypto.js';

/** At most one copy per phone of the user here (agent/state/user-state.ts MAX_POOLS_PER_USER). */
export const MAX_CREDENTIAL_COPIES = 16;

const key32 = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{43}$/, 'must be a base64url 32-byte key'));
const signature = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{86}$/, 'must be a base64url Ed25519 signature'));

export const CredentialRequestSchema = v.pipe(
  v.strictObject({
    requestKey: key32,
    copies: v.pipe(
      v.array(
        v.strictObject({
          deviceId: v.pipe(v.string(), v.regex(idPattern('dev'), 'must be a dev_ id')),
          eph: key32,
        }),
      ),
      v.minLength(1, 'must list at least one copy'),
      v.maxLength(MAX_CREDENTIAL_COPIES, `must list at most ${MAX_CREDENTIAL_COPIES} copies`),
      v.check(
        (copies) => new Set(copies.map((c) => c.deviceId)).size === copies.length,
        'must name each deviceId once',
      ),
    ),
    signature,
  }),
);
export type CredentialRequestBody = v.InferOutput<typeof CredentialRequestSchema>;

/** k (32 bytes) sealed to Q: base64url of 32, 12 and 32 + 16 bytes. */
export const ReleaseSchema = v.strictObject({
  eph: key32,
  nonce: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{16}$/, 'must be a base64url 12-byte nonce')),
  ciphertext: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{64}$/, 'must be base64url of 48 bytes')),
});
export type ReleaseBody = v.InferOutput<typeof ReleaseSchema>;

/** What the request signature binds besides the body: the auth request's own fields. */
export interface CredentialRequestContext {
  readonly challenge: string;
  readonly user: string;
  readonly workstationId: string;
}

function transcriptOf(context: CredentialRequestContext, body: Omit<CredentialRequestBody, 'signature'>): Uint8Array {
  return credentialRequestTranscript({
    challenge: context.challenge,
    copies: body.copies,
    requestKey: body.requestKey,
    user: context.user,
    workstationId: context.workstationId,
  });
}

/** The workstation's side: the body of `credential`, signed with the workstation key. */
export async function signCredentialRequest(
  context: CredentialRequestContext,
  unsigned: Omit<CredentialRequestBody, 'signature'>,
  workstationKey: CryptoKey,
): Promise<CredentialRequestBody> {
  const copies = unsigned.copies.map(({ deviceId, eph }) => ({ deviceId, eph }));
  const body = { requestKey: unsigned.requestKey, copies };
  return { ...body, signature: toBase64url(await sign(workstationKey, transcriptOf(context, body))) };
}

export async function checkCredentialRequest(
  context: CredentialRequestContext,
  body: CredentialRequestBody,
  workstationKey: Uint8Array,
): Promise<boolean> {
  try {
    return await verify(workstationKey, fromBase64url(body.signature), transcriptOf(context, body));
  } catch {
    return false;
  }
}

export type PhoneRelease =
  | { kind: 'release'; release: ReleaseBody }
  /** Nothing for this phone: no copy names it, or its pairing has no credential key. */
  | { kind: 'none' }
  /** Not signed by the workstation pinned at pairing (or an unusable eph): refuse the request. */
  | { kind: 'forged' };

/**
 * The phone's decision on a credential request it is about to approve (docs/windows.md §6.5):
 * only a request the pinned workstation key signed, only this device's own copy, k wiped after.
 */
export async function phoneRelease(
  request: CredentialRequestContext & { readonly requestId: string; readonly credential: CredentialRequestBody },
  phone: { readonly deviceId: string; readonly workstationKey: Uint8Array; readonly credentialKey: X25519Pair | null },
): Promise<PhoneRelease> {
  if (!v.is(CredentialRequestSchema, request.credential)) return { kind: 'forged' };
  if (!(await checkCredentialRequest(request, request.credential, phone.workstationKey))) return { kind: 'forged' };
  const mine = request.credential.copies.find((copy) => copy.deviceId === phone.deviceId);
  if (!mine || phone.credentialKey === null) return { kind: 'none' };
  const key = await copyKeyFor(phone.credentialKey, fromBase64url(mine.eph));
  if (key === null) return { kind: 'forged' };
  try {
    const box = await sealRelease(
      fromBase64url(request.credential.requestKey),
      key,
      releaseIds(request, phone.deviceId),
    );
    return {
      kind: 'release',
      release: { eph: toBase64url(box.eph), nonce: toBase64url(box.nonce), ciphertext: toBase64url(box.ciphertext) },
    };
  } finally {
    key.fill(0);
  }
}

function releaseIds(request: CredentialRequestContext & { readonly requestId: string }, deviceId: string): ReleaseIds {
  return { challenge: request.challenge, deviceId, requestId: request.requestId, workstationId: request.workstationId };
}

/** The agent's side: k from a release, or null when it does not open for this request and Q. */
export async function openPhoneRelease(
  requestKey: X25519Pair,
  release: ReleaseBody,
  request: CredentialRequestContext & { readonly requestId: string; readonly deviceId: string },
): Promise<Uint8Array | null> {
  if (!v.is(ReleaseSchema, release)) return null;
  const box = {
    eph: fromBase64url(release.eph),
    nonce: fromBase64url(release.nonce),
    ciphertext: fromBase64url(release.ciphertext),
  };
  const key = await openRelease(requestKey, box, releaseIds(request, request.deviceId));
  if (key !== null && key.length !== KEY_BYTES) {
    key.fill(0);
    return null;
  }
  return key;
}
