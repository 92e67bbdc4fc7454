/**
 * The credential key CK of one pairing (docs/windows.md §6.3): an X25519 key pair made for that
 * pairing alone. Its private half is kept as PKCS#8 inside the vault (docs/phone.md "The vault at
 * rest") and only ever used here; its public half leaves in the pairing's authenticated body.
 */
import type { X25519Pair } from '../../protocol/credential-wrap.js';
import { fromBase64url, fromBase64urlOfLength, toBase64url } from '../../protocol/online/base64url.js';
import { X25519, generateKeyPair, importPrivateKey } from '../../protocol/crypto/webcrypto.js';

export interface StoredCredentialKey {
  /** base64url PKCS#8 of the X25519 private key. */
  readonly pkcs8: string;
  /** base64url of the 32-byte public key. */
  readonly public: string;
}

export async function newCredentialKey(): Promise<StoredCredentialKey> {
  const pair = await generateKeyPair(X25519);
  try {
    return { pkcs8: toBase64url(pair.pkcs8), public: toBase64url(pair.publicKey) };
  } finally {
    pair.pkcs8.fill(0);
  }
}

/** The key pair as a non-extractable CryptoKey and its public bytes; null for a pairing without one. */
export async function loadCredentialKey(stored: StoredCredentialKey | undefined): Promise<X25519Pair | null> {
  if (stored === undefined) return null;
  const pkcs8 = fromBase64url(stored.pkcs8);
  try {
    return {
      privateKey: await importPrivateKey(X25519, pkcs8),
      publicKey: fromBase64urlOfLength(stored.public, 32, 'credentialKey.public'),
    };
  } finally {
    pkcs8.fill(0);
  }
}
