/**
 * The code a person carries from the workstation screen to the phone when pairing over BLE
 * (docs/ble-protocol.md §12). It is the online pairing's construction (protocol/online/pairing-keys.ts):
 * a 5-symbol pairing id and a 12-symbol (60-bit) secret, shown `XXXXX-XXXX-XXXX-XXXX`, stretched
 * with PBKDF2-HMAC-SHA-256 (200,000 iterations) into the code key. Everything BLE derives from
 * the code key or the pairing id through HKDF with its own label, so nothing is shared with an
 * online pairing.
 */
import { utf8 } from '../../protocol/bytes.js';
import { derivePairingKey, formatPairingCode, newPairingId } from '../../protocol/online/pairing-keys.js';
import { newPairingSecret, parsePairingCode } from '../../protocol/online/pairing-keys.js';
import { PROTOCOL_LABEL } from './constants.js';
import { hkdfSha256 } from '../../protocol/crypto/hashes.js';

const EMPTY = new Uint8Array(0);

export interface BlePairingCode {
  readonly pairingId: string;
  /** The 12 secret symbols: shown once on the screen, kept in memory only. */
  readonly secret: string;
  /** What the screen shows: `XXXXX-XXXX-XXXX-XXXX`. */
  readonly code: string;
}

export function newBlePairingCode(): BlePairingCode {
  const pairingId = newPairingId();
  const secret = newPairingSecret();
  return { pairingId, secret, code: formatPairingCode(pairingId, secret) };
}

/** What a person typed, forgiving case, spaces, hyphens and look-alikes; null when malformed. */
export function parseBlePairingCode(typed: string): { readonly pairingId: string; readonly secret: string } | null {
  return parsePairingCode(typed);
}

/** codeKey = PBKDF2-HMAC-SHA-256(secret, "latchkey-pairing-v1:" ‖ pairingId, 200,000, 32) (§12.2). */
export function deriveCodeKey(pairingId: string, secret: string): Promise<Uint8Array> {
  return derivePairingKey(pairingId, secret);
}

/**
 * pairTagKey = HKDF(IKM = pairingId, salt = "", info = "latchkey-ble/1 pair tag", 32): the phone
 * advertises the rotating tag of this key while it waits (§12.1). It depends on the pairing id
 * only, so a phone with a wrong secret is still found and told that its code is wrong.
 */
export function derivePairTagKey(pairingId: string): Uint8Array {
  return hkdfSha256(utf8(pairingId), EMPTY, utf8(`${PROTOCOL_LABEL} pair tag`), 32);
}

/** The two keys the code key gives the exchange: the session salt and the MAC key (§12.2). */
export function derivePairKeys(codeKey: Uint8Array): { readonly salt: Uint8Array; readonly macKey: Uint8Array } {
  if (codeKey.length !== 32) throw new RangeError(`codeKey must be 32 bytes (got ${codeKey.length})`);
  return {
    salt: hkdfSha256(codeKey, EMPTY, utf8(`${PROTOCOL_LABEL} pair session`), 32),
    macKey: hkdfSha256(codeKey, EMPTY, utf8(`${PROTOCOL_LABEL} pair mac`), 32),
  };
}
