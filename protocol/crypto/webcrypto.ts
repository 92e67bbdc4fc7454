/**
 * The asymmetric primitives and AEAD the online protocol uses (docs/online-protocol.md), over
 * WebCrypto so the same code runs in Node 20 and in a browser (the phone web app, the console):
 * Ed25519, X25519, AES-256-GCM, and PBKDF2 (native: 200,000 iterations in JavaScript would keep a
 * phone busy for seconds). Raw 32-byte public keys on the wire; private keys as non-extractable
 * CryptoKeys in memory and PKCS#8 bytes when sealed at rest. Hashes, HMAC and HKDF: hashes.ts.
 */
import type { webcrypto } from 'node:crypto';

// Types only (erased at run time): the code itself uses globalThis.crypto, as a browser would.
type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
type KeyUsage = webcrypto.KeyUsage;
type BufferSource = webcrypto.BufferSource;
export type { CryptoKey };

// Node's typing of SubtleCrypto, also where the DOM's is in scope (the web console's build).
const subtle = globalThis.crypto.subtle as unknown as webcrypto.SubtleCrypto;

export const ED25519 = { name: 'Ed25519' } as const;
export const X25519 = { name: 'X25519' } as const;

export interface KeyPair {
  readonly privateKey: CryptoKey;
  /** Raw 32-byte public key. */
  readonly publicKey: Uint8Array;
}

async function rawPublic(key: CryptoKey): Promise<Uint8Array> {
  return new Uint8Array(await subtle.exportKey('raw', key));
}

/** A fresh key pair; the private key is extractable only as PKCS#8 for sealing at rest. */
export async function generateKeyPair(
  algorithm: typeof ED25519 | typeof X25519,
): Promise<KeyPair & { pkcs8: Uint8Array }> {
  const usages: KeyUsage[] = algorithm.name === 'Ed25519' ? ['sign', 'verify'] : ['deriveBits'];
  const pair = (await subtle.generateKey(algorithm, true, usages)) as CryptoKeyPair;
  const pkcs8 = new Uint8Array(await subtle.exportKey('pkcs8', pair.privateKey));
  return { privateKey: await importPrivateKey(algorithm, pkcs8), publicKey: await rawPublic(pair.publicKey), pkcs8 };
}

export async function importPrivateKey(
  algorithm: typeof ED25519 | typeof X25519,
  pkcs8: Uint8Array,
): Promise<CryptoKey> {
  return subtle.importKey(
    'pkcs8',
    pkcs8 as BufferSource,
    algorithm,
    false,
    algorithm.name === 'Ed25519' ? ['sign'] : ['deriveBits'],
  );
}

/** The raw public key of a PKCS#8 private key (via a JWK round trip, which WebCrypto allows). */
export async function publicKeyOf(algorithm: typeof ED25519 | typeof X25519, pkcs8: Uint8Array): Promise<Uint8Array> {
  const key = await subtle.importKey(
    'pkcs8',
    pkcs8 as BufferSource,
    algorithm,
    true,
    algorithm.name === 'Ed25519' ? ['sign'] : ['deriveBits'],
  );
  const jwk = await subtle.exportKey('jwk', key);
  const { fromBase64url } = await import('../online/base64url.js');
  return fromBase64url(jwk.x!);
}

export async function sign(privateKey: CryptoKey, message: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await subtle.sign(ED25519, privateKey, message as BufferSource));
}

/** False for any malformed key or signature: callers fail closed on false. */
export async function verify(publicKey: Uint8Array, signature: Uint8Array, message: Uint8Array): Promise<boolean> {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    const key = await subtle.importKey('raw', publicKey as BufferSource, ED25519, false, ['verify']);
    return await subtle.verify(ED25519, key, signature as BufferSource, message as BufferSource);
  } catch {
    return false;
  }
}

export async function x25519(privateKey: CryptoKey, peerPublicKey: Uint8Array): Promise<Uint8Array> {
  const peer = await subtle.importKey('raw', peerPublicKey as BufferSource, X25519, false, []);
  return new Uint8Array(await subtle.deriveBits({ name: 'X25519', public: peer }, privateKey, 256));
}

/** A raw secret key for one use, never extractable. */
function importSecret(bytes: Uint8Array, algorithm: 'PBKDF2' | 'AES-GCM', usage: KeyUsage): Promise<CryptoKey> {
  return subtle.importKey('raw', bytes as BufferSource, algorithm, false, [usage]);
}

export async function pbkdf2Sha256(
  secret: Uint8Array,
  salt: Uint8Array,
  iterations: number,
  length: number,
): Promise<Uint8Array> {
  const key = await importSecret(secret, 'PBKDF2', 'deriveBits');
  const params = { name: 'PBKDF2', hash: 'SHA-256', salt: salt as BufferSource, iterations };
  return new Uint8Array(await subtle.deriveBits(params, key, length * 8));
}

/** AES-256-GCM one way or the other; WebCrypto appends the 16-byte tag to the ciphertext. */
async function aesGcm(
  usage: 'encrypt' | 'decrypt',
  key: Uint8Array,
  nonce: Uint8Array,
  input: Uint8Array,
  aad: Uint8Array,
): Promise<Uint8Array> {
  const aes = await importSecret(key, 'AES-GCM', usage);
  const params = { name: 'AES-GCM', iv: nonce as BufferSource, additionalData: aad as BufferSource };
  return new Uint8Array(await subtle[usage](params, aes, input as BufferSource));
}

export function aesGcmSeal(
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
): Promise<Uint8Array> {
  return aesGcm('encrypt', key, nonce, plaintext, aad);
}

/** Null when authentication fails. */
export async function aesGcmOpen(
  key: Uint8Array,
  nonce: Uint8Array,
  sealed: Uint8Array,
  aad: Uint8Array,
): Promise<Uint8Array | null> {
  try {
    return await aesGcm('decrypt', key, nonce, sealed, aad);
  } catch {
    return null;
  }
}
