/**
 * The device's two key pairs (docs/online-protocol.md "Keys"): Ed25519 to sign requests,
 * approvals and pool confirmations; X25519 to receive pool seeds. Made once at `init`, kept as
 * PKCS#8 inside the vault, held in memory as non-extractable CryptoKeys.
 */
import { fromBase64url, fromBase64urlOfLength, toBase64url } from '../../protocol/online/base64url.js';
import { ED25519, X25519, generateKeyPair, importPrivateKey, type CryptoKey } from '../../protocol/crypto/webcrypto.js';
import type { Device } from './phone-state.js';

export interface DeviceKeys {
  readonly signing: CryptoKey;
  readonly signingPublic: string;
  readonly box: CryptoKey;
  readonly boxPublic: Uint8Array;
  readonly boxPublicText: string;
}

export async function newDevice(name: string, nowMs: number): Promise<Device> {
  const signing = await generateKeyPair(ED25519);
  const box = await generateKeyPair(X25519);
  const device: Device = {
    name,
    signingPkcs8: toBase64url(signing.pkcs8),
    signingPublic: toBase64url(signing.publicKey),
    boxPkcs8: toBase64url(box.pkcs8),
    boxPublic: toBase64url(box.publicKey),
    createdAt: nowMs,
  };
  signing.pkcs8.fill(0);
  box.pkcs8.fill(0);
  return device;
}

export async function loadDeviceKeys(device: Device): Promise<DeviceKeys> {
  const signingPkcs8 = fromBase64url(device.signingPkcs8);
  const boxPkcs8 = fromBase64url(device.boxPkcs8);
  try {
    return {
      signing: await importPrivateKey(ED25519, signingPkcs8),
      signingPublic: device.signingPublic,
      box: await importPrivateKey(X25519, boxPkcs8),
      boxPublic: fromBase64urlOfLength(device.boxPublic, 32, 'boxPublic'),
      boxPublicText: device.boxPublic,
    };
  } finally {
    signingPkcs8.fill(0);
    boxPkcs8.fill(0);
  }
}
