/**
 * Keeping the user's Windows password only wrapped (docs/windows.md §6): one copy per offline PIN
 * under an X25519 key pair derived from the same Argon2id evaluation that makes the PIN's verifier,
 * and one copy per paired phone under the phone's credential key, which the phone releases as a
 * 32-byte copy key sealed to a per-request key. Pure: WebCrypto through protocol/online, no I/O.
 */
import { concatBytes } from './bytes.js';
import { transcript } from './online/canonical-json.js';
import { openFrom, sealTo, type SealedBox } from './online/sealed-box.js';
import { hkdfSha256, randomBytes } from './crypto/hashes.js';
import {
  X25519,
  aesGcmOpen,
  aesGcmSeal,
  importPrivateKey,
  publicKeyOf,
  x25519,
  type CryptoKey,
} from './crypto/webcrypto.js';
import { MAX_PASSWORD_UNITS, unitsProblem } from './windows-logon-credential.js';
import type { PinCharset } from './offline-pin.js';
import { refusal, type Refusal } from './refusal.js';

export const COPY_LABEL = 'latchkey-windows-credential-v1';
export const REQUEST_LABEL = 'latchkey-credential-request-v1';
export const RELEASE_LABEL = 'latchkey-credential-release-v1';
/** HKDF info strings of §6.2: two independent outputs of one Argon2id evaluation. */
const PIN_KEY_INFO = { verifier: 'latchkey-pin/1 verifier', credentialSeed: 'latchkey-pin/1 credential key' } as const;

export const KEY_BYTES = 32;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
export const BLOCK_BYTES = 64;
export const MIN_BLOCK_BYTES = BLOCK_BYTES;
/** 2 + 512 bytes of password, rounded up to a whole block. */
export const MAX_BLOCK_BYTES = Math.ceil((2 + 2 * MAX_PASSWORD_UNITS) / BLOCK_BYTES) * BLOCK_BYTES;

/** §6.4: whether a padded block may be this long (whole 64-byte blocks, from one to the maximum). */
export function isBlockLength(bytes: number): boolean {
  return bytes >= MIN_BLOCK_BYTES && bytes <= MAX_BLOCK_BYTES && bytes % BLOCK_BYTES === 0;
}
/** Pools whose PINs carry a copy: at least this many bits per PIN (§6.7). */
export const MIN_PIN_BITS_FOR_COPIES = 40;

const EMPTY = new Uint8Array(0);
// RFC 8410 PKCS#8 prefix of an X25519 private key: the 32 bytes follow.
const X25519_PKCS8_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20,
]);

export type CopyBinding =
  | {
      readonly holder: 'pin';
      readonly sid: string;
      readonly generation: number;
      readonly poolId: string;
      readonly c: number;
    }
  | { readonly holder: 'phone'; readonly sid: string; readonly generation: number; readonly deviceId: string };

export interface WrappedCopy {
  /** The copy's ephemeral X25519 public key. */
  readonly eph: Uint8Array;
  readonly nonce: Uint8Array;
  /** AES-256-GCM of the padded block, with its 16-byte tag. */
  readonly ciphertext: Uint8Array;
}

export type CopyOpening =
  | { ok: true; password: Uint8Array }
  | Refusal<'copy-malformed' | 'copy-unopenable' | 'bad-key'>;

export interface X25519Pair {
  readonly privateKey: CryptoKey;
  readonly publicKey: Uint8Array;
}

function requireLength(name: string, bytes: Uint8Array, length: number): void {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array`);
  if (bytes.length !== length) throw new RangeError(`${name} must be ${length} bytes, got ${bytes.length}`);
}

/** Bits of entropy of one PIN (docs/offline-pins.md: Crockford base32 or decimal digits). */
export function pinBits(charset: PinCharset, length: number): number {
  return length * (charset === 'alphanumeric' ? 5 : Math.log2(10));
}

/** Whether a pool's PINs get copies of the password (§6.7). */
export function poolCarriesCopies(charset: PinCharset, length: number): boolean {
  return pinBits(charset, length) >= MIN_PIN_BITS_FOR_COPIES;
}

function pinKeyOf(argon2Output: Uint8Array, output: keyof typeof PIN_KEY_INFO): Uint8Array {
  requireLength('argon2Output', argon2Output, KEY_BYTES);
  return hkdfSha256(argon2Output, EMPTY, PIN_KEY_INFO[output], KEY_BYTES);
}

/** §6.2: verifier_c of one Argon2id output (the pool format `argon2id-hkdf-v1`). */
export function pinVerifierOf(argon2Output: Uint8Array): Uint8Array {
  return pinKeyOf(argon2Output, 'verifier');
}

/** §6.2: seed_c, the private half of the PIN's credential key, from the same Argon2id output. */
export function pinCredentialSeedOf(argon2Output: Uint8Array): Uint8Array {
  return pinKeyOf(argon2Output, 'credentialSeed');
}

/** §6.2: the verifier and the credential key's seed from one Argon2id output. */
export async function splitPinKey(
  argon2Output: Uint8Array,
): Promise<{ verifier: Uint8Array; credentialSeed: Uint8Array }> {
  return { verifier: pinVerifierOf(argon2Output), credentialSeed: pinCredentialSeedOf(argon2Output) };
}

/** The X25519 key pair whose private key is `seed` (RFC 7748; clamping happens on use). */
export async function x25519PairFromSeed(seed: Uint8Array): Promise<X25519Pair> {
  requireLength('seed', seed, KEY_BYTES);
  const pkcs8 = concatBytes(X25519_PKCS8_PREFIX, seed);
  try {
    return { privateKey: await importPrivateKey(X25519, pkcs8), publicKey: await publicKeyOf(X25519, pkcs8) };
  } finally {
    pkcs8.fill(0);
  }
}

/** §6.4: u16 length ‖ UTF-16LE password ‖ zeros to a whole number of 64-byte blocks. */
export function padPassword(password: Uint8Array): Uint8Array {
  if (!(password instanceof Uint8Array)) throw new TypeError('password must be a Uint8Array of UTF-16LE');
  const problem = unitsProblem(password, MAX_PASSWORD_UNITS);
  if (problem !== null) throw new RangeError(`password ${problem}`);
  const block = new Uint8Array(Math.ceil((2 + password.length) / BLOCK_BYTES) * BLOCK_BYTES);
  block[0] = password.length >> 8;
  block[1] = password.length & 0xff;
  block.set(password, 2);
  return block;
}

/** The password in a block, or null when the block breaks a rule of §6.4. */
export function unpadPassword(block: Uint8Array): Uint8Array | null {
  if (!isBlockLength(block.length)) return null;
  const length = (block[0]! << 8) | block[1]!;
  if (2 + length > block.length || Math.ceil((2 + length) / BLOCK_BYTES) * BLOCK_BYTES !== block.length) return null;
  const password = block.subarray(2, 2 + length);
  if (unitsProblem(password, MAX_PASSWORD_UNITS) !== null) return null;
  for (let i = 2 + length; i < block.length; i++) if (block[i] !== 0) return null;
  return Uint8Array.from(password);
}

function copyAad(binding: CopyBinding): Uint8Array {
  return transcript(COPY_LABEL, { ...binding });
}

function allZero(bytes: Uint8Array): boolean {
  return bytes.every((byte) => byte === 0);
}

/** k of §6.4 from one side's private key and the other's public key; null for a low-order point. */
async function copyKeyFromShared(
  privateKey: CryptoKey,
  peer: Uint8Array,
  eph: Uint8Array,
  recipient: Uint8Array,
): Promise<Uint8Array | null> {
  let shared: Uint8Array;
  try {
    shared = await x25519(privateKey, peer);
  } catch {
    return null;
  }
  if (allZero(shared)) return null;
  try {
    return await hkdfSha256(shared, concatBytes(eph, recipient), COPY_LABEL, KEY_BYTES);
  } finally {
    shared.fill(0);
  }
}

/**
 * Wraps `password` (UTF-16LE) for `recipient` (a PIN's P_c or a phone's CK.pub). `fixed` pins the
 * ephemeral seed and nonce, for test vectors only.
 */
export async function wrapCredential(
  recipient: Uint8Array,
  password: Uint8Array,
  binding: CopyBinding,
  fixed?: { ephemeralSeed: Uint8Array; nonce: Uint8Array },
): Promise<WrappedCopy> {
  requireLength('recipient', recipient, KEY_BYTES);
  const block = padPassword(password);
  const ephemeralSeed = fixed?.ephemeralSeed ?? randomBytes(KEY_BYTES);
  const nonce = fixed?.nonce ?? randomBytes(NONCE_BYTES);
  requireLength('nonce', nonce, NONCE_BYTES);
  const ephemeral = await x25519PairFromSeed(ephemeralSeed);
  if (!fixed) ephemeralSeed.fill(0);
  const key = await copyKeyFromShared(ephemeral.privateKey, recipient, ephemeral.publicKey, recipient);
  if (key === null) throw new RangeError('recipient is not a usable X25519 public key');
  try {
    return { eph: ephemeral.publicKey, nonce, ciphertext: await aesGcmSeal(key, nonce, block, copyAad(binding)) };
  } finally {
    key.fill(0);
    block.fill(0);
  }
}

/** The copy key k for `eph`, as the holder of `recipient`'s private key computes it (a PIN, or the phone before it releases k). */
export async function copyKeyFor(recipient: X25519Pair, eph: Uint8Array): Promise<Uint8Array | null> {
  if (eph.length !== KEY_BYTES) return null;
  return copyKeyFromShared(recipient.privateKey, eph, eph, recipient.publicKey);
}

function copyShapeProblem(copy: WrappedCopy): string | null {
  if (copy.eph.length !== KEY_BYTES) return 'its eph is not 32 bytes';
  if (copy.nonce.length !== NONCE_BYTES) return 'its nonce is not 12 bytes';
  const block = copy.ciphertext.length - TAG_BYTES;
  if (!isBlockLength(block)) return 'its ciphertext is not a whole number of blocks';
  return null;
}

function malformed(why: string): CopyOpening {
  return refusal('copy-malformed', `the credential copy is malformed: ${why}`);
}

/** Opens a copy with its copy key k (released by a phone, or computed from a PIN). */
export async function openCopy(key: Uint8Array, copy: WrappedCopy, binding: CopyBinding): Promise<CopyOpening> {
  const shape = copyShapeProblem(copy);
  if (shape !== null) return malformed(shape);
  if (key.length !== KEY_BYTES) return refusal('bad-key', 'the copy key is not 32 bytes');
  const block = await aesGcmOpen(key, copy.nonce, copy.ciphertext, copyAad(binding));
  if (block === null) return refusal('copy-unopenable', 'the credential copy does not open with this key and binding');
  try {
    const password = unpadPassword(block);
    if (password === null) return malformed('its block breaks the padding rules');
    return { ok: true, password };
  } finally {
    block.fill(0);
  }
}

/** Opens a copy with the recipient's private key (the agent, after a PIN proved itself). */
export async function unwrapCredential(
  recipient: X25519Pair,
  copy: WrappedCopy,
  binding: CopyBinding,
): Promise<CopyOpening> {
  const shape = copyShapeProblem(copy);
  if (shape !== null) return malformed(shape);
  const key = await copyKeyFor(recipient, copy.eph);
  if (key === null) return refusal('bad-key', "the copy's eph is not a usable X25519 public key");
  try {
    return await openCopy(key, copy, binding);
  } finally {
    key.fill(0);
  }
}

export interface CredentialRequest {
  readonly challenge: string;
  readonly copies: readonly { readonly deviceId: string; readonly eph: string }[];
  readonly requestKey: string;
  readonly user: string;
  readonly workstationId: string;
}

/** What the workstation key signs so a phone releases only to the workstation's own request key (§6.5). */
export function credentialRequestTranscript(request: CredentialRequest): Uint8Array {
  const { challenge, copies, requestKey, user, workstationId } = request;
  return transcript(REQUEST_LABEL, {
    challenge,
    copies: copies.map(({ deviceId, eph }) => ({ deviceId, eph })),
    requestKey,
    user,
    workstationId,
  });
}

export interface ReleaseIds {
  readonly challenge: string;
  readonly deviceId: string;
  readonly requestId: string;
  readonly workstationId: string;
}

function releaseAad(ids: ReleaseIds): Uint8Array {
  const { challenge, deviceId, requestId, workstationId } = ids;
  return transcript(RELEASE_LABEL, { challenge, deviceId, requestId, workstationId });
}

/** The phone's side: k sealed to the request key, bound to this request. */
export async function sealRelease(requestKey: Uint8Array, key: Uint8Array, ids: ReleaseIds): Promise<SealedBox> {
  requireLength('requestKey', requestKey, KEY_BYTES);
  requireLength('key', key, KEY_BYTES);
  return sealTo(requestKey, key, releaseAad(ids), RELEASE_LABEL);
}

/** The agent's side: k, or null when the release does not open for this request. */
export async function openRelease(requestKey: X25519Pair, box: SealedBox, ids: ReleaseIds): Promise<Uint8Array | null> {
  const key = await openFrom(requestKey.privateKey, requestKey.publicKey, box, releaseAad(ids), RELEASE_LABEL);
  if (key === null || key.length !== KEY_BYTES) {
    key?.fill(0);
    return null;
  }
  return key;
}
