/**
 * The file backend's entry format (docs/keystore.md, "`file`: the sealed root-only store"):
 * {"format":"latchkey-keystore-entry","version":1,"nonce":"<base64 12>","sealed":"<base64>"}
 * with sealed = AES-256-GCM(host key, nonce, secret, aad = "latchkey-keystore-entry/v1" || 0x00 || name),
 * the 16-byte tag appended. No file system access here.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { concatBytes, decodeUtf8Strict, utf8 } from '../../protocol/bytes.js';
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
  return `${createHash('sha256').update(name, 'utf8').digest('hex')}${ENTRY_FILE_SUFFIX}`;
}

/** Binding the name means an entry copied over another name fails authentication. */
export function entryAad(name: string): Uint8Array {
  return concatBytes(utf8(AAD_LABEL), new Uint8Array([0]), utf8(name));
}

export function sealEntry(hostKey: Uint8Array, name: string, secret: Uint8Array): Uint8Array {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', hostKey, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(entryAad(name));
  const sealed = Buffer.concat([cipher.update(secret), cipher.final(), cipher.getAuthTag()]);
  const entry = { format: ENTRY_FORMAT, version: ENTRY_VERSION, nonce: nonce.toString('base64'), sealed: sealed.toString('base64') };
  return utf8(JSON.stringify(entry));
}

/**
 * Parses, checks and authenticates an entry file read for `name`; `where` names the file in
 * messages. Any defect is `keystore-tampered`: the agent wrote every entry itself.
 */
export function openEntry(hostKey: Uint8Array, name: string, file: Uint8Array, where: string): Uint8Array {
  const tampered = (why: string, cause?: unknown): KeystoreError =>
    new KeystoreError('keystore-tampered', `the keystore entry for "${name}" (${where}) ${why}`, cause === undefined ? undefined : { cause });

  if (file.length > MAX_ENTRY_FILE_BYTES) throw tampered(`is ${file.length} bytes, over the limit of ${MAX_ENTRY_FILE_BYTES}`);
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
  if (Object.keys(entry).sort().join() !== ENTRY_KEYS.join()) throw tampered(`must have exactly the fields ${ENTRY_KEYS.join(', ')}`);
  if (entry.format !== ENTRY_FORMAT) throw tampered(`has format ${JSON.stringify(entry.format)}, not "${ENTRY_FORMAT}"`);
  if (entry.version !== ENTRY_VERSION) throw tampered(`has version ${JSON.stringify(entry.version)}; this agent reads version ${ENTRY_VERSION}`);
  const nonce = decodeBase64(entry.nonce);
  if (nonce === null || nonce.length !== NONCE_BYTES) throw tampered(`has a nonce that is not ${NONCE_BYTES} bytes of base64`);
  const sealed = decodeBase64(entry.sealed);
  if (sealed === null || sealed.length < TAG_BYTES + MIN_SECRET_BYTES || sealed.length > TAG_BYTES + MAX_SECRET_BYTES) {
    throw tampered(`has a sealed field that is not ${TAG_BYTES + MIN_SECRET_BYTES}–${TAG_BYTES + MAX_SECRET_BYTES} bytes of base64`);
  }

  const ciphertext = sealed.subarray(0, sealed.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', hostKey, nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(entryAad(name));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  let head: Buffer | undefined;
  let tail: Buffer | undefined;
  try {
    head = decipher.update(ciphertext);
    tail = decipher.final();
    // A fresh array the caller owns alone (Buffers may share Node's pool), then wipe the copies.
    const secret = new Uint8Array(head.length + tail.length);
    secret.set(head, 0);
    secret.set(tail, head.length);
    return secret;
  } catch (error) {
    throw tampered('failed authentication: it was modified, sealed under another name, or sealed with another host key', error);
  } finally {
    head?.fill(0);
    tail?.fill(0);
  }
}

function decodeBase64(value: unknown): Buffer | null {
  if (typeof value !== 'string' || !BASE64.test(value)) return null;
  return Buffer.from(value, 'base64');
}
