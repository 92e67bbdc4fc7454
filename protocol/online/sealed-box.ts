/**
 * Sealing bytes to an X25519 public key (docs/online-protocol.md "Replenishment"): an ephemeral
 * X25519 key, HKDF-SHA-256 over the shared secret, AES-256-GCM. Used for pool envelopes (to a
 * phone) and recovery PINs (to the Control Center). The label separates the two uses.
 */
import { hkdfSha256, randomBytes } from '../crypto/hashes.js';
import { X25519, aesGcmOpen, aesGcmSeal, generateKeyPair, x25519, type CryptoKey } from '../crypto/webcrypto.js';

export const NONCE_BYTES = 12;

export interface SealedBox {
  /** The ephemeral public key, 32 bytes. */
  readonly eph: Uint8Array;
  readonly nonce: Uint8Array;
  /** Ciphertext with the 16-byte GCM tag. */
  readonly ciphertext: Uint8Array;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

export async function sealTo(
  recipient: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
  label: string,
): Promise<SealedBox> {
  if (recipient.length !== 32) throw new RangeError('recipient must be a 32-byte X25519 public key');
  const ephemeral = await generateKeyPair(X25519);
  ephemeral.pkcs8.fill(0);
  const shared = await x25519(ephemeral.privateKey, recipient);
  const key = hkdfSha256(shared, concat(ephemeral.publicKey, recipient), label, 32);
  shared.fill(0);
  const nonce = randomBytes(NONCE_BYTES);
  const ciphertext = await aesGcmSeal(key, nonce, plaintext, aad);
  key.fill(0);
  return { eph: ephemeral.publicKey, nonce, ciphertext };
}

/** The plaintext, or null when the box does not open with this key (tampered, or not ours). */
export async function openFrom(
  recipientPrivate: CryptoKey,
  recipientPublic: Uint8Array,
  box: SealedBox,
  aad: Uint8Array,
  label: string,
): Promise<Uint8Array | null> {
  if (box.eph.length !== 32 || box.nonce.length !== NONCE_BYTES || box.ciphertext.length < 16) return null;
  let shared: Uint8Array;
  try {
    shared = await x25519(recipientPrivate, box.eph);
  } catch {
    return null;
  }
  const key = hkdfSha256(shared, concat(box.eph, recipientPublic), label, 32);
  shared.fill(0);
  const plaintext = await aesGcmOpen(key, box.nonce, box.ciphertext, aad);
  key.fill(0);
  return plaintext;
}
