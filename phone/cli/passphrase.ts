/**
 * Where the vault passphrase comes from (docs/phone.md): `--passphrase-file` (its first line; the
 * file must be this user's and not readable by group or others), else LATCHKEY_PHONE_PASSPHRASE,
 * else a prompt with echo off (or one line on a piped stdin). Bytes; the caller wipes them.
 */
import { describeFileError } from '../../platform/file-errors.js';
import { InsecurePathError, ownedByThisProcess, readCheckedFile } from '../../platform/secure-path.js';
import { readRequiredSecret, readSecret } from '../../platform/read-secret.js';
import { PhoneError } from '../core/errors.js';

export const PASSPHRASE_ENV = 'LATCHKEY_PHONE_PASSPHRASE';
const MAX_PASSPHRASE_FILE_BYTES = 4096;

export interface PassphraseSource {
  readonly passphraseFile?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Ask twice on a terminal (init). */
  readonly confirm?: boolean;
}

function firstLine(bytes: Uint8Array): Uint8Array {
  let end = bytes.indexOf(0x0a);
  if (end < 0) end = bytes.length;
  if (end > 0 && bytes[end - 1] === 0x0d) end--;
  return new Uint8Array(bytes.subarray(0, end)); // a copy: the caller wipes the buffer it came from
}

export async function readPassphrase(source: PassphraseSource): Promise<Uint8Array> {
  if (source.passphraseFile !== undefined) {
    let raw: Buffer;
    try {
      raw = await readCheckedFile(source.passphraseFile, ownedByThisProcess(0o077), MAX_PASSPHRASE_FILE_BYTES);
    } catch (error) {
      if (error instanceof InsecurePathError)
        throw new PhoneError('vault-permissions', `${error.message}.`, { cause: error });
      throw new PhoneError(
        'vault-permissions',
        `Cannot read the passphrase file: ${describeFileError(error, source.passphraseFile)}.`,
        { cause: error },
      );
    }
    const line = firstLine(raw);
    raw.fill(0);
    return line;
  }
  const fromEnv = (source.env ?? process.env)[PASSPHRASE_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return new TextEncoder().encode(fromEnv);
  const first = await readRequiredSecret(
    'Phone vault passphrase: ',
    'vault passphrase',
    `set ${PASSPHRASE_ENV}, or pass --passphrase-file FILE (its first line is the passphrase; only you may read it)`,
  );
  if (source.confirm && process.stdin.isTTY) {
    const again = await readSecret('Again: ');
    const same = again.length === first.length && again.every((byte, i) => byte === first[i]);
    again.fill(0);
    if (!same) {
      first.fill(0);
      throw new PhoneError('weak-passphrase', 'The two passphrases differ.');
    }
  }
  return first;
}
