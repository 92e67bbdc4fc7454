/**
 * Signed requests (docs/online-protocol.md "Request authentication"): four headers over the
 * method, path, time, a nonce and the body's SHA-256. Checking the nonce's freshness is the
 * server's job (it remembers them); this module builds and verifies the signature.
 */
import { fromBase64url, toBase64url } from './base64url.js';
import { transcript } from './canonical-json.js';
import { randomBytes, sha256 } from '../crypto/hashes.js';
import { sign, verify, type CryptoKey } from '../crypto/webcrypto.js';

export const REQUEST_LABEL = 'latchkey-request-v1';
export const HEADER_KEY_ID = 'latchkey-key-id';
export const HEADER_TIMESTAMP = 'latchkey-timestamp';
export const HEADER_NONCE = 'latchkey-nonce';
export const HEADER_SIGNATURE = 'latchkey-signature';
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;
export const NONCE_MEMORY_MS = 10 * 60_000;

export interface RequestToSign {
  readonly method: string;
  /** Path and query, exactly as sent. */
  readonly path: string;
  readonly body: Uint8Array;
}

async function requestTranscript(request: RequestToSign, timestamp: string, nonce: string): Promise<Uint8Array> {
  return transcript(REQUEST_LABEL, {
    method: request.method.toUpperCase(),
    path: request.path,
    timestamp,
    nonce,
    bodySha256: toBase64url(sha256(request.body)),
  });
}

export async function signRequest(
  request: RequestToSign,
  keyId: string,
  privateKey: CryptoKey,
  nowMs: number,
): Promise<Record<string, string>> {
  const timestamp = String(nowMs);
  const nonce = toBase64url(randomBytes(16));
  const signature = await sign(privateKey, await requestTranscript(request, timestamp, nonce));
  return {
    [HEADER_KEY_ID]: keyId,
    [HEADER_TIMESTAMP]: timestamp,
    [HEADER_NONCE]: nonce,
    [HEADER_SIGNATURE]: toBase64url(signature),
  };
}

export type RequestCheck =
  | { ok: true; keyId: string; nonce: string; timestampMs: number }
  | { ok: false; message: string };

/** Checks headers and signature for a key already looked up by `keyId`. */
export async function checkRequestSignature(
  request: RequestToSign,
  headers: Record<string, string | string[] | undefined>,
  publicKeyFor: (keyId: string) => Promise<Uint8Array | null>,
  nowMs: number,
): Promise<RequestCheck> {
  const one = (name: string) => (typeof headers[name] === 'string' ? (headers[name] as string) : undefined);
  const keyId = one(HEADER_KEY_ID);
  const timestamp = one(HEADER_TIMESTAMP);
  const nonce = one(HEADER_NONCE);
  const signature = one(HEADER_SIGNATURE);
  if (!keyId || !timestamp || !nonce || !signature)
    return {
      ok: false,
      message: 'the request is not signed (Latchkey-Key-Id, -Timestamp, -Nonce and -Signature headers)',
    };
  if (!/^\d{1,16}$/.test(timestamp)) return { ok: false, message: 'Latchkey-Timestamp must be unix milliseconds' };
  const timestampMs = Number(timestamp);
  if (Math.abs(nowMs - timestampMs) > MAX_CLOCK_SKEW_MS)
    return { ok: false, message: 'Latchkey-Timestamp is more than 5 minutes from the server clock' };
  if (!/^[A-Za-z0-9_-]{22}$/.test(nonce)) return { ok: false, message: 'Latchkey-Nonce must be 16 bytes of base64url' };
  let signatureBytes: Uint8Array;
  try {
    signatureBytes = fromBase64url(signature);
  } catch {
    return { ok: false, message: 'Latchkey-Signature is not base64url' };
  }
  const publicKey = await publicKeyFor(keyId);
  if (publicKey === null) return { ok: false, message: 'unknown or revoked key' };
  if (!(await verify(publicKey, signatureBytes, await requestTranscript(request, timestamp, nonce)))) {
    return { ok: false, message: 'the request signature does not verify' };
  }
  return { ok: true, keyId, nonce, timestampMs };
}
