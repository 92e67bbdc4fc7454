/**
 * The phone vault's format at rest (docs/phone.md "The vault at rest"): the phone state as JSON,
 * sealed with AES-256-GCM under a key stretched from a passphrase with PBKDF2-SHA-256. Pure
 * WebCrypto, so a web app can use it with its own storage. A wrong passphrase, a changed byte or
 * a state that does not parse is an error with its own code, never an empty vault.
 */
import * as v from 'valibot';
import { fromBase64url, toBase64url } from '../../protocol/online/base64url.js';
import { parseJsonBytes } from '../../protocol/json-bytes.js';
import { canonicalJson } from '../../protocol/online/canonical-json.js';
import { aesGcmOpen, aesGcmSeal, pbkdf2Sha256 } from '../../protocol/crypto/webcrypto.js';
import { PhoneError } from '../core/errors.js';
import { parsePhoneState, type PhoneState } from '../core/phone-state.js';
import { equalBytes, hkdfSha256, randomBytes } from '../../protocol/crypto/hashes.js';

export const VAULT_FORMAT = 'latchkey-phone-vault';
/** OWASP's figure for PBKDF2-HMAC-SHA-256 (2023); fewer are refused on read. */
export const MIN_PBKDF2_ITERATIONS = 600_000;
export const SALT_BYTES = 16;
export const NONCE_BYTES = 12;
export const CHECK_BYTES = 16;
/** A vault larger than this is not one (1000 pairings with two pools each fit easily). */
export const MAX_VAULT_BYTES = 4 * 1024 * 1024;
export const MIN_PASSPHRASE_CHARS = 8;

const b64 = (bytes: number) => v.pipe(v.string(), v.length(Math.ceil((bytes * 4) / 3)));
const HeaderSchema = v.strictObject({
  format: v.literal(VAULT_FORMAT),
  v: v.literal(1),
  kdf: v.strictObject({
    name: v.literal('PBKDF2-SHA-256'),
    iterations: v.pipe(v.number(), v.safeInteger(), v.minValue(MIN_PBKDF2_ITERATIONS), v.maxValue(100_000_000)),
    salt: b64(SALT_BYTES),
  }),
  cipher: v.literal('AES-256-GCM'),
  check: b64(CHECK_BYTES),
});
const VaultFileSchema = v.strictObject({
  ...HeaderSchema.entries,
  nonce: b64(NONCE_BYTES),
  ciphertext: v.pipe(v.string(), v.maxLength(MAX_VAULT_BYTES)),
});
type Header = v.InferOutput<typeof HeaderSchema>;

const encoder = new TextEncoder();

/** The passphrase-derived keys of one vault; derive once, seal and open many times. */
export interface VaultKey {
  readonly header: Header;
  readonly encKey: Uint8Array;
}

async function deriveKeys(
  passphrase: Uint8Array,
  salt: Uint8Array,
  iterations: number,
): Promise<{ encKey: Uint8Array; check: Uint8Array }> {
  const stretched = await pbkdf2Sha256(passphrase, salt, iterations, 32);
  try {
    return {
      encKey: await hkdfSha256(stretched, salt, 'latchkey-phone-vault-v1/aes', 32),
      check: await hkdfSha256(stretched, salt, 'latchkey-phone-vault-v1/check', CHECK_BYTES),
    };
  } finally {
    stretched.fill(0);
  }
}

/** A new vault key with a fresh salt (init). */
export async function newVaultKey(passphrase: Uint8Array, iterations = MIN_PBKDF2_ITERATIONS): Promise<VaultKey> {
  if (new TextDecoder().decode(passphrase).length < MIN_PASSPHRASE_CHARS) {
    throw new PhoneError('weak-passphrase', `The passphrase must have at least ${MIN_PASSPHRASE_CHARS} characters.`);
  }
  const salt = randomBytes(SALT_BYTES);
  const { encKey, check } = await deriveKeys(passphrase, salt, iterations);
  const header: Header = {
    format: VAULT_FORMAT,
    v: 1,
    kdf: { name: 'PBKDF2-SHA-256', iterations, salt: toBase64url(salt) },
    cipher: 'AES-256-GCM',
    check: toBase64url(check),
  };
  return { header: v.parse(HeaderSchema, header), encKey };
}

function parseFile(bytes: Uint8Array): v.InferOutput<typeof VaultFileSchema> {
  if (bytes.length > MAX_VAULT_BYTES * 2)
    throw new PhoneError('vault-malformed', 'The vault file is too large to be a phone vault.');
  const json = parseJsonBytes(bytes);
  if (!json.ok) throw new PhoneError('vault-malformed', 'The vault file is not a phone vault (not JSON).');
  const parsed = v.safeParse(VaultFileSchema, json.value);
  if (!parsed.success)
    throw new PhoneError(
      'vault-malformed',
      `The vault file is not a phone vault (${parsed.issues[0]!.message} at ${(parsed.issues[0]!.path ?? []).map((p) => String(p.key)).join('.') || 'the top'}).`,
    );
  return parsed.output;
}

function aadOf(header: Header): Uint8Array {
  const { format, v: version, kdf, cipher, check } = header;
  return encoder.encode(canonicalJson({ format, v: version, kdf: { ...kdf }, cipher, check }));
}

function headerOf({ format, v: version, kdf, cipher, check }: v.InferOutput<typeof VaultFileSchema>): Header {
  return { format, v: version, kdf, cipher, check };
}

/** Derives the key of an existing vault from its header; a wrong passphrase is told apart here. */
export async function unlockVault(file: Uint8Array, passphrase: Uint8Array): Promise<VaultKey> {
  const parsed = parseFile(file);
  const header = headerOf(parsed);
  const { encKey, check } = await deriveKeys(passphrase, fromBase64url(header.kdf.salt), header.kdf.iterations);
  if (!equalBytes(check, fromBase64url(header.check))) {
    encKey.fill(0);
    throw new PhoneError('vault-wrong-passphrase', 'Wrong passphrase for this phone vault.');
  }
  return { header, encKey };
}

/** Opens a vault file with its key: the phone state, or vault-tampered / vault-malformed. */
export async function openVault(file: Uint8Array, key: VaultKey): Promise<PhoneState> {
  const parsed = parseFile(file);
  const header = headerOf(parsed);
  if (
    canonicalJson({ ...header, kdf: { ...header.kdf } }) !==
    canonicalJson({ ...key.header, kdf: { ...key.header.kdf } })
  ) {
    throw new PhoneError(
      'vault-tampered',
      'The vault header changed since it was unlocked — it was replaced or tampered with.',
    );
  }
  let nonce: Uint8Array;
  let sealed: Uint8Array;
  try {
    nonce = fromBase64url(parsed.nonce);
    sealed = fromBase64url(parsed.ciphertext);
  } catch {
    throw new PhoneError('vault-malformed', 'The vault file has bad base64url.');
  }
  const plaintext = await aesGcmOpen(key.encKey, nonce, sealed, aadOf(header));
  if (plaintext === null)
    throw new PhoneError(
      'vault-tampered',
      'The phone vault was modified: it does not decrypt (the passphrase is right).',
    );
  try {
    const json = parseJsonBytes(plaintext);
    if (!json.ok) throw new PhoneError('vault-malformed', 'The phone vault decrypts but holds no phone state.');
    const state = parsePhoneState(json.value);
    if (state === null) throw new PhoneError('vault-malformed', 'The phone vault decrypts but its state is not valid.');
    return state;
  } finally {
    plaintext.fill(0);
  }
}

/** The vault file for `state`, sealed with a fresh nonce. */
export async function sealVault(state: PhoneState, key: VaultKey): Promise<Uint8Array> {
  const plaintext = encoder.encode(JSON.stringify(state));
  try {
    const nonce = randomBytes(NONCE_BYTES);
    const sealed = await aesGcmSeal(key.encKey, nonce, plaintext, aadOf(key.header));
    return encoder.encode(
      `${JSON.stringify({ ...key.header, nonce: toBase64url(nonce), ciphertext: toBase64url(sealed) })}\n`,
    );
  } finally {
    plaintext.fill(0);
  }
}
