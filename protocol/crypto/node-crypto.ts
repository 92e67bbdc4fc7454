/**
 * The asymmetric primitives and AEADs that run synchronously over raw keys, through node:crypto
 * (Node only): Ed25519 (RFC 8032), X25519 (RFC 7748) and ChaCha20-Poly1305 (RFC 8439) for
 * latchkey-ble/1 (docs/ble-protocol.md §5.2), AES-256-GCM for the agent's sealed files
 * (docs/state-files.md, docs/keystore.md). No I/O; secrets are Uint8Array. Hashes, HMAC, HKDF
 * and randomness: hashes.ts.
 */
import { createCipheriv, createDecipheriv, createPrivateKey, createPublicKey, diffieHellman, sign } from 'node:crypto';
import { verify, type KeyObject } from 'node:crypto';

// DER prefixes that wrap a raw 32-byte key (RFC 8410 §7 and §4).
const ED25519_PKCS8 = Buffer.from('302e020100300506032b657004220420', 'hex');
const ED25519_SPKI = Buffer.from('302a300506032b6570032100', 'hex');
const X25519_PKCS8 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const X25519_SPKI = Buffer.from('302a300506032b656e032100', 'hex');
/** Raw Ed25519 and X25519 keys (RFC 8032, RFC 7748), and the AEADs' keys. */
export const KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;
/** Poly1305's and GCM's full tag. */
export const AEAD_TAG_BYTES = 16;
const NONCE_BYTES = 12;

function checkKey(name: string, key: Uint8Array): void {
  if (!(key instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array`);
  if (key.length !== KEY_BYTES) throw new RangeError(`${name} must be ${KEY_BYTES} bytes (got ${key.length})`);
}

function privateKeyObject(prefix: Buffer, raw: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([prefix, raw]), format: 'der', type: 'pkcs8' });
}

function publicKeyObject(prefix: Buffer, raw: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([prefix, raw]), format: 'der', type: 'spki' });
}

function rawPublic(key: KeyObject): Uint8Array {
  const der = key.export({ format: 'der', type: 'spki' });
  return new Uint8Array(der.subarray(der.length - KEY_BYTES));
}

/** The Ed25519 public key of a 32-byte private seed. */
export function ed25519PublicKey(seed: Uint8Array): Uint8Array {
  checkKey('seed', seed);
  return rawPublic(createPublicKey(privateKeyObject(ED25519_PKCS8, seed)));
}

export function ed25519Sign(seed: Uint8Array, message: Uint8Array): Uint8Array {
  checkKey('seed', seed);
  return new Uint8Array(sign(null, message, privateKeyObject(ED25519_PKCS8, seed)));
}

/** False for a bad signature and for a public key that is not a valid point. */
export function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== KEY_BYTES || signature.length !== SIGNATURE_BYTES) return false;
  try {
    return verify(null, message, publicKeyObject(ED25519_SPKI, publicKey), signature);
  } catch {
    return false;
  }
}

export function x25519PublicKey(privateKey: Uint8Array): Uint8Array {
  checkKey('privateKey', privateKey);
  return rawPublic(createPublicKey(privateKeyObject(X25519_PKCS8, privateKey)));
}

/** X25519; null when the peer's key is rejected or gives the all-zero secret (RFC 7748 §6.1). */
export function x25519(privateKey: Uint8Array, peerPublicKey: Uint8Array): Uint8Array | null {
  checkKey('privateKey', privateKey);
  if (peerPublicKey.length !== KEY_BYTES) return null;
  let shared: Uint8Array;
  try {
    shared = new Uint8Array(
      diffieHellman({
        privateKey: privateKeyObject(X25519_PKCS8, privateKey),
        publicKey: publicKeyObject(X25519_SPKI, peerPublicKey),
      }),
    );
  } catch {
    return null;
  }
  let any = 0;
  for (const byte of shared) any |= byte;
  return any === 0 ? null : shared;
}

function nonce(counter: number): Uint8Array {
  if (!Number.isSafeInteger(counter) || counter < 0)
    throw new RangeError(`counter must be a non-negative integer (got ${counter})`);
  const out = new Uint8Array(NONCE_BYTES);
  const view = new DataView(out.buffer);
  view.setUint32(4, Math.floor(counter / 2 ** 32));
  view.setUint32(8, counter >>> 0);
  return out;
}

/** ChaCha20-Poly1305 (RFC 8439 §2.8): ciphertext ‖ 16-byte tag. */
export function aeadSeal(key: Uint8Array, counter: number, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  checkKey('key', key);
  const cipher = createCipheriv('chacha20-poly1305', key, nonce(counter), { authTagLength: AEAD_TAG_BYTES });
  cipher.setAAD(aad, { plaintextLength: plaintext.length });
  const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return new Uint8Array(body);
}

/** The plaintext, or null when the tag does not verify. */
export function aeadOpen(key: Uint8Array, counter: number, aad: Uint8Array, sealed: Uint8Array): Uint8Array | null {
  checkKey('key', key);
  if (sealed.length < AEAD_TAG_BYTES) return null;
  const ciphertext = sealed.subarray(0, sealed.length - AEAD_TAG_BYTES);
  const decipher = createDecipheriv('chacha20-poly1305', key, nonce(counter), { authTagLength: AEAD_TAG_BYTES });
  decipher.setAAD(aad, { plaintextLength: ciphertext.length });
  decipher.setAuthTag(sealed.subarray(sealed.length - AEAD_TAG_BYTES));
  try {
    return new Uint8Array(Buffer.concat([decipher.update(ciphertext), decipher.final()]));
  } catch {
    return null;
  }
}

/** AES-256-GCM with a 12-byte nonce and the full 16-byte tag: ciphertext ‖ tag. */
export function aes256GcmSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: AEAD_TAG_BYTES });
  cipher.setAAD(aad);
  return new Uint8Array(Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]));
}

/** The plaintext of ciphertext ‖ tag in a fresh array the caller owns (and wipes), or null when it does not authenticate. */
export function aes256GcmOpen(
  key: Uint8Array,
  nonce: Uint8Array,
  sealed: Uint8Array,
  aad: Uint8Array,
): Uint8Array | null {
  if (sealed.length < AEAD_TAG_BYTES) return null;
  const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: AEAD_TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - AEAD_TAG_BYTES));
  let head: Buffer | undefined;
  let tail: Buffer | undefined;
  try {
    head = decipher.update(sealed.subarray(0, sealed.length - AEAD_TAG_BYTES));
    tail = decipher.final();
    // A fresh array the caller owns alone (Buffers may share Node's pool), then wipe the copies.
    const plaintext = new Uint8Array(head.length + tail.length);
    plaintext.set(head, 0);
    plaintext.set(tail, head.length);
    return plaintext;
  } catch {
    return null;
  } finally {
    head?.fill(0);
    tail?.fill(0);
  }
}
