/** Exit codes of `latchkey phone` (docs/phone.md "CLI"); 64 is every command's usage error. */
import { CliError } from '../../platform/exit-codes.js';
import { PhoneError, type PhoneErrorCode } from '../core/errors.js';

export const PHONE_EXIT = {
  ok: 0,
  failure: 1,
  noOfflinePin: 2,
  unreachable: 3,
  vault: 4,
  pairing: 5,
  offerOnly: 6,
  usage: 64,
} as const;

const BY_CODE: Partial<Record<PhoneErrorCode, number>> = {
  'vault-missing': PHONE_EXIT.vault,
  'vault-exists': PHONE_EXIT.vault,
  'vault-wrong-passphrase': PHONE_EXIT.vault,
  'vault-tampered': PHONE_EXIT.vault,
  'vault-malformed': PHONE_EXIT.vault,
  'vault-permissions': PHONE_EXIT.vault,
  'vault-busy': PHONE_EXIT.vault,
  'weak-passphrase': PHONE_EXIT.vault,
  'bad-pairing-code': PHONE_EXIT.pairing,
  'pairing-refused': PHONE_EXIT.pairing,
  'pairing-mac-mismatch': PHONE_EXIT.pairing,
  'pairing-timeout': PHONE_EXIT.pairing,
  unreachable: PHONE_EXIT.unreachable,
};

/** A PhoneError as the CLI reports it: its sentence and its code, and the exit code. */
export function toCliError(error: unknown): unknown {
  if (!(error instanceof PhoneError)) return error;
  return new CliError(`${error.message} (${error.code})`, BY_CODE[error.code] ?? PHONE_EXIT.failure);
}
