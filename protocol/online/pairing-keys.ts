/**
 * Pairing codes and the keys that authenticate a pairing (docs/online-protocol.md "Pairing").
 * Code = 5-symbol pairing id (CC-assigned) + 12-symbol secret (agent-drawn, 60 bits), shown
 * `XXXXX-XXXX-XXXX-XXXX`; the secret never reaches the Control Center.
 */
import { normalizePinInput } from '../offline-pin.js';
import { transcript } from './canonical-json.js';
import { fromBase64url, toBase64url } from './base64url.js';
import { equalBytes, hmacSha256, randomCrockford } from '../crypto/hashes.js';
import { pbkdf2Sha256, sign, verify, type CryptoKey } from '../crypto/webcrypto.js';

export const PAIRING_ID_SYMBOLS = 5;
export const PAIRING_SECRET_SYMBOLS = 12;
export const PAIRING_PBKDF2_ITERATIONS = 200_000;
const encoder = new TextEncoder();

export function newPairingSecret(): string {
  return randomCrockford(PAIRING_SECRET_SYMBOLS);
}

export function newPairingId(): string {
  return randomCrockford(PAIRING_ID_SYMBOLS);
}

export function formatPairingCode(pairingId: string, secret: string): string {
  const code = pairingId + secret;
  return [code.slice(0, 5), code.slice(5, 9), code.slice(9, 13), code.slice(13)].join('-');
}

/** Splits what a person typed (case, spaces, hyphens and I/L/O look-alikes forgiven); null when malformed. */
export function parsePairingCode(typed: string): { pairingId: string; secret: string } | null {
  const normalized = normalizePinInput(encoder.encode(typed), 'alphanumeric');
  if (normalized === null || normalized.length !== PAIRING_ID_SYMBOLS + PAIRING_SECRET_SYMBOLS) return null;
  const text = String.fromCharCode(...normalized);
  return { pairingId: text.slice(0, PAIRING_ID_SYMBOLS), secret: text.slice(PAIRING_ID_SYMBOLS) };
}

export function derivePairingKey(pairingId: string, secret: string): Promise<Uint8Array> {
  return pbkdf2Sha256(
    encoder.encode(secret),
    encoder.encode(`latchkey-pairing-v1:${pairingId}`),
    PAIRING_PBKDF2_ITERATIONS,
    32,
  );
}

export interface DeviceKeys {
  readonly pairingId: string;
  readonly signingKey: string;
  readonly boxKey: string;
  readonly name: string;
  /** The phone's credential key for this pairing (docs/windows.md §6.3); absent: the older transcript, byte for byte. */
  readonly credentialKey?: string;
}

export interface WorkstationKeys {
  readonly pairingId: string;
  readonly workstationId: string;
  readonly workstationKey: string;
  readonly user: string;
  readonly ccKey: string;
}

/** The MACed and proven object: exactly the keys of DeviceKeys, `credentialKey` only when present. */
function deviceKeysObject(keys: DeviceKeys): Record<string, string> {
  const { pairingId, signingKey, boxKey, name, credentialKey } = keys;
  return { pairingId, signingKey, boxKey, name, ...(credentialKey === undefined ? {} : { credentialKey }) };
}

export function deviceMac(pairingKey: Uint8Array, keys: DeviceKeys): Uint8Array {
  return hmacSha256(pairingKey, transcript('latchkey-pairing-device-mac-v1', deviceKeysObject(keys)));
}

export function workstationMac(pairingKey: Uint8Array, keys: WorkstationKeys): Uint8Array {
  return hmacSha256(pairingKey, transcript('latchkey-pairing-workstation-mac-v1', { ...keys }));
}

/** The new device key's signature over `latchkey-device-proof-v1` (step 2: proves the phone holds the signing key it registers). */
export async function signDeviceProof(keys: DeviceKeys, deviceSigningKey: CryptoKey): Promise<string> {
  return toBase64url(await sign(deviceSigningKey, transcript('latchkey-device-proof-v1', deviceKeysObject(keys))));
}

/** The Control Center's check of `proof` against the signing key the request itself carries; false for anything malformed. */
export async function checkDeviceProof(keys: DeviceKeys, proof: string): Promise<boolean> {
  try {
    return await verify(
      fromBase64url(keys.signingKey),
      fromBase64url(proof),
      transcript('latchkey-device-proof-v1', deviceKeysObject(keys)),
    );
  } catch {
    return false;
  }
}

export async function checkMac(expected: Uint8Array | PromiseLike<Uint8Array>, received: Uint8Array): Promise<boolean> {
  return equalBytes(await expected, received);
}
