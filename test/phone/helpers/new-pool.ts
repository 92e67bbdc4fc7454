/** A fresh pool of offline PINs as a workstation makes one for a phone (R9): a random seed, counter 0. */
import { toBase64url } from '../../../protocol/online/base64url.js';
import { newId } from '../../../protocol/online/ids.js';
import type { PoolContents } from '../../../protocol/online/pool-envelope.js';
import type { PinCharset } from '../../../protocol/offline-pin.js';
import { randomBytes } from '../../../protocol/crypto/hashes.js';

/** The pool's contents (25 alphanumeric PINs of 8 unless told) and its seed, so a test can derive the PINs. */
export function newPool(
  workstationId: string,
  user: string,
  issuedAt: number,
  format: { count?: number; charset?: PinCharset; length?: number } = {},
): { seed: Uint8Array; contents: PoolContents } {
  const seed = randomBytes(32);
  const contents: PoolContents = {
    deliveryId: newId('pd'),
    poolId: newId('pool'),
    workstationId,
    user,
    seed: toBase64url(seed),
    charset: format.charset ?? 'alphanumeric',
    length: format.length ?? 8,
    counter: 0,
    count: format.count ?? 25,
    issuedAt,
  };
  return { seed, contents };
}
