/**
 * The file backend's entry format (docs/keystore.md, "`file`: the sealed root-only store"):
 * {"format":"latchkey-keystore-entry","version":1,"nonce":"<base64 12>","sealed":"<base64>"}
 * with sealed = AES-256-GCM(host key, nonce, secret, aad = "latchkey-keystore-entry/v1" || 0x00 || name),
 * the 16-byte tag appended. No file system access here.
 */
import { concatBytes, decodeUtf8Strict, toHex, utf8 } from '../../protocol/bytes.js';
import { randomBytes, sha256 } from '../../protocol/crypto/hashes.js';
import { aes256GcmOpen, aes256GcmSeal } from '../../protocol/crypto/node-crypto.js';
import { KeystoreError } from './errors.js';
import { MAX_SECRET_BYTES, MIN_SECRET_BYTES } from './limits.js';

export const ENTRY_FORMAT = 'latchkey-keystore-entry';
export const ENTRY_VERSION = 1;
export const HOST_KEY_BYTES = 32;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
/** A 4,096-byte secret seals to about 5.6 kB of JSON; anything past this is refused before parsing. */
export const MAX_ENTRY_FILE_BYTES = 8192;
export const ENTRY_FILE_SUFFIX = '.secret';

const AAD_LABEL = 'latchkey-keystore-entry/v1';
const ENTRY_KEYS = ['format', 'nonce', 'sealed', 'version'];
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** `<sha256(name) hex>.secret`: the file name says nothing about the name. */
export function entryFileName(name: string): string {
  return `${toHex(sha256(utf8(name)))}${ENTRY_FILE_SUFFIX}`;
}

/** Binding the name means an entry copied over another name fails authentication. */
export function entryAad(name: string): Uint8Array {
  return concatBytes(utf8(AAD_LABEL), new Uint8Array([0]), utf8(name));
}

export function sealEntry(hostKey: Uint8Array, name: string, secret: Uint8Array): Uint8Array {
  const nonce = randomBytes(NONCE_BYTES);
  const sealed = aes256GcmSeal(hostKey, nonce, secret, entryAad(name));
  const entry = {
    format: ENTRY_FORMAT,
    version: ENTRY_VERSION,
    nonce: Buffer.from(nonce).toString('base64'),
    sealed: Buffer.from(sealed).toString('base64'),
  };
  return utf8(JSON.stringify(entry));
}

/**
 * Parses, checks and authenticates an entry file read for `name`; `where` names the file in
 * messages. Any defect is `keystore-tampered`: the agent wrote every entry itself.
 */
export function openEntry(hostKey: Uint8Array, name: string, file: Uint8Array, where: string): Uint8Array {
  const tampered = (why: string, cause?: unknown): KeystoreError =>
    new KeystoreError(
      'keystore-tampered',
      `the keystore entry for "${name}" (${where}) ${why}`,
      cause === undefined ? undefined : { cause },
    );

  if (file.length > MAX_ENTRY_FILE_BYTES)
    throw tampered(`is ${file.length} bytes, over the limit of ${MAX_ENTRY_FILE_BYTES}`);
  const text = decodeUtf8Strict(file);
  if (text === null) throw tampered('is not UTF-8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw tampered('is not JSON', error);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw tampered('is not a JSON object');
  const entry = parsed as Record<string, unknown>;
  if (Object.keys(entry).sort().join() !== ENTRY_KEYS.join())
    throw tampered(`must have exactly the fields ${ENTRY_KEYS.join(', ')}`);
  if (entry.format !== ENTRY_FORMAT)
    throw tampered(`has format ${JSON.stringify(entry.format)}, not "${ENTRY_FORMAT}"`);
  if (entry.version !== ENTRY_VERSION)
    throw tampered(`has version ${JSON.stringify(entry.version)}; this agent reads version ${ENTRY_VERSION}`);
  const nonce = decodeBase64(entry.nonce);
  if (nonce === null || nonce.length !== NONCE_BYTES)
    throw tampered(`has a nonce that is not ${NONCE_BYTES} bytes of base64`);
  const sealed = decodeBase64(entry.sealed);
  if (sealed === null || sealed.length < TAG_BYTES + MIN_SECRET_BYTES || sealed.length > TAG_BYTES + MAX_SECRET_BYTES) {
    throw tampered(
      `has a sealed field that is not ${TAG_BYTES + MIN_SECRET_BYTES}–${TAG_BYTES + MAX_SECRET_BYTES} bytes of base64`,
    );
  }

  const secret = aes256GcmOpen(hostKey, nonce, sealed, entryAad(name));
  if (secret === null)
    throw tampered(
      'failed authentication: it was modified, sealed under another name, or sealed with another host key',
    );
  return secret;
}

function decodeBase64(value: unknown): Buffer | null {
  if (typeof value !== 'string' || !BASE64.test(value)) return null;
  return Buffer.from(value, 'base64');
}
