/** The device proof at pairing (docs/online-protocol.md "Pairing", step 2). */
import { describe, expect, it } from 'vitest';
import { toBase64url } from '../../../protocol/online/base64url.js';
import { checkDeviceProof, signDeviceProof, type DeviceKeys } from '../../../protocol/online/pairing-keys.js';
import { ED25519, X25519, generateKeyPair } from '../../../protocol/crypto/webcrypto.js';

describe('device proof', () => {
  it('verifies against the signing key it registers and nothing else', async () => {
    const signing = await generateKeyPair(ED25519);
    const box = await generateKeyPair(X25519);
    const keys: DeviceKeys = {
      pairingId: 'AB3DE',
      signingKey: toBase64url(signing.publicKey),
      boxKey: toBase64url(box.publicKey),
      name: 'Ana’s phone',
    };
    const proof = await signDeviceProof(keys, signing.privateKey);
    expect(await checkDeviceProof(keys, proof)).toBe(true);
    expect(await checkDeviceProof({ ...keys, pairingId: 'AB3DF' }, proof)).toBe(false);
    expect(await checkDeviceProof({ ...keys, name: 'Mallory' }, proof)).toBe(false);
    const other = await generateKeyPair(X25519);
    expect(await checkDeviceProof({ ...keys, boxKey: toBase64url(other.publicKey) }, proof)).toBe(false);
    expect(await checkDeviceProof(keys, 'not base64url!')).toBe(false);
    expect(await checkDeviceProof({ ...keys, signingKey: 'short' }, proof)).toBe(false);
  });
});
