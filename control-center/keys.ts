/**
 * The Control Center's key file `<db>.keys` (docs/control-center.md "Data layout"): its Ed25519
 * signing key (policies) and X25519 box key (recovery PINs), as base64url PKCS#8 in JSON, mode
 * 0600. Created once with write-temp, fsync, rename; refused when it is a symlink, not ours, or
 * readable by group or others.
 */
import { promises as fs } from 'node:fs';
import * as v from 'valibot';
import { fromBase64url, toBase64url } from '../protocol/online/base64url.js';
import { ED25519, X25519, generateKeyPair, importPrivateKey, publicKeyOf } from '../protocol/crypto/webcrypto.js';
import type { CryptoKey } from '../protocol/crypto/webcrypto.js';
import { writeFileDurably } from '../platform/durable-file.js';
import { describeFileError } from '../platform/file-errors.js';
import { JsonFileError, readJsonFile } from '../platform/json-file.js';
import { ownedByThisProcess } from '../platform/secure-path.js';
import { StartupError } from './errors.js';

export interface CcKeys {
  readonly signingKey: CryptoKey;
  readonly boxKey: CryptoKey;
  /** Raw public keys. */
  readonly signingPublic: Uint8Array;
  readonly boxPublic: Uint8Array;
  /** base64url of the raw public keys, as they travel (`ccKey`, `ccBoxKey`). */
  readonly ccKey: string;
  readonly ccBoxKey: string;
}

const pkcs8 = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{20,200}$/, 'must be base64url PKCS#8'));
const KeyFileSchema = v.strictObject({
  v: v.literal(1),
  signingKey: pkcs8,
  boxKey: pkcs8,
  createdAt: v.pipe(v.number(), v.safeInteger()),
});

const MAX_KEY_FILE_BYTES = 4096;

export function keyFileFor(databaseFile: string): string {
  return `${databaseFile}.keys`;
}

export async function keyFileExists(file: string): Promise<boolean> {
  try {
    await fs.lstat(file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new StartupError(
      'keys-unreadable',
      `the key file ${file} cannot be read: ${describeFileError(error, file)}`,
      { cause: error },
    );
  }
}

export async function createKeyFile(file: string, now: number): Promise<void> {
  const signing = await generateKeyPair(ED25519);
  const box = await generateKeyPair(X25519);
  const text = `${JSON.stringify({ v: 1, signingKey: toBase64url(signing.pkcs8), boxKey: toBase64url(box.pkcs8), createdAt: now })}\n`;
  signing.pkcs8.fill(0);
  box.pkcs8.fill(0);
  await writeFileDurably(file, new TextEncoder().encode(text), 0o600);
}

export async function loadKeyFile(file: string): Promise<CcKeys> {
  let parsed: v.InferOutput<typeof KeyFileSchema>;
  try {
    parsed = await readJsonFile(file, KeyFileSchema, ownedByThisProcess(0o077), MAX_KEY_FILE_BYTES);
  } catch (error) {
    if (!(error instanceof JsonFileError)) throw error;
    if (error.problem === 'insecure')
      throw new StartupError('keys-insecure', `the key file ${file} is refused: ${error.reason}`, { cause: error });
    if (error.problem === 'missing' || error.problem === 'unreadable')
      throw new StartupError(
        'keys-unreadable',
        `the key file ${file} cannot be read: ${describeFileError(error.cause, file)}`,
        { cause: error },
      );
    throw new StartupError('keys-unreadable', `the key file ${file} is not a Latchkey Control Center key file`, {
      cause: error,
    });
  }
  const signingBytes = fromBase64url(parsed.signingKey);
  const boxBytes = fromBase64url(parsed.boxKey);
  try {
    const signingPublic = await publicKeyOf(ED25519, signingBytes);
    const boxPublic = await publicKeyOf(X25519, boxBytes);
    return {
      signingKey: await importPrivateKey(ED25519, signingBytes),
      boxKey: await importPrivateKey(X25519, boxBytes),
      signingPublic,
      boxPublic,
      ccKey: toBase64url(signingPublic),
      ccBoxKey: toBase64url(boxPublic),
    };
  } catch (error) {
    throw new StartupError('keys-unreadable', `the key file ${file} holds keys that do not import`, { cause: error });
  } finally {
    signingBytes.fill(0);
    boxBytes.fill(0);
  }
}
