/** Typed random ids (docs/online-protocol.md "Keys"): a prefix, then 26 Crockford symbols (128 bits). */
import { randomCrockford } from '../crypto/hashes.js';

/**
 * `it` install token, `at` admin token, `cs` console session and `lr` lockout reset: the Control
 * Center's own records (docs/control-center.md, docs/console.md).
 */
export const ID_PREFIXES = [
  't',
  'g',
  'ws',
  'dev',
  'ar',
  'pd',
  'pc',
  'ev',
  'in',
  'pool',
  'it',
  'at',
  'cs',
  'lr',
] as const;
export type IdPrefix = (typeof ID_PREFIXES)[number];

export function newId(prefix: IdPrefix, symbols = 26): string {
  return `${prefix}_${randomCrockford(symbols)}`;
}

export function idPattern(prefix: IdPrefix, symbols = 26): RegExp {
  return new RegExp(`^${prefix}_[0-9A-HJKMNP-TV-Z]{${symbols}}$`);
}

export function isId(value: unknown, prefix: IdPrefix, symbols = 26): value is string {
  return typeof value === 'string' && idPattern(prefix, symbols).test(value);
}
