/**
 * The logon credential the agent hands the Windows credential provider on success
 * (docs/windows.md §5): version, then domain, user name and password, each a big-endian 16-bit
 * byte length and UTF-16LE, nothing after. The C side is native/windows/logon-credential.c;
 * both read test/vectors/windows-credential.json. Pure: no I/O.
 */
import { refusal, type Refusal } from './refusal.js';

export const LOGON_CREDENTIAL_VERSION = 1;
/** Code units (docs/windows.md §5 "Limits"). */
export const MAX_DOMAIN_UNITS = 255;
export const MAX_USER_UNITS = 256;
export const MAX_PASSWORD_UNITS = 256;
/** 1 + 3 × 2 + (255 + 256 + 256) × 2: fits the IPC `secret` field (2,048 bytes). */
export const MAX_LOGON_CREDENTIAL_BYTES = 1 + 6 + 2 * (MAX_DOMAIN_UNITS + MAX_USER_UNITS + MAX_PASSWORD_UNITS);

export interface LogonCredential {
  readonly domain: string;
  readonly user: string;
  /** UTF-16LE, as Windows checks it: a secret, so bytes (the caller wipes them). */
  readonly password: Uint8Array;
}

export type LogonCredentialDecoding = { ok: true; credential: LogonCredential } | Refusal<'credential-malformed'>;

/** UTF-16LE of a well-formed string (no lone surrogates). */
export function utf16le(text: string): Uint8Array {
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text))
    throw new TypeError('text has a lone surrogate');
  const out = new Uint8Array(text.length * 2);
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    out[2 * i] = unit & 0xff;
    out[2 * i + 1] = unit >> 8;
  }
  return out;
}

/** Null when the bytes are not UTF-16LE code units (odd length) or hold a U+0000 unit. */
function unitsWithoutNul(bytes: Uint8Array): number[] | null {
  if (bytes.length % 2 !== 0) return null;
  const units: number[] = [];
  for (let i = 0; i < bytes.length; i += 2) {
    const unit = bytes[i]! | (bytes[i + 1]! << 8);
    if (unit === 0) return null;
    units.push(unit);
  }
  return units;
}

/** Why a UTF-16LE value cannot travel, or null when it can. */
export function unitsProblem(bytes: Uint8Array, maxUnits: number): string | null {
  if (bytes.length < 2 || bytes.length > 2 * maxUnits) return `must be 1–${maxUnits} UTF-16 code units`;
  if (unitsWithoutNul(bytes) === null) return 'must be whole UTF-16LE code units without U+0000';
  return null;
}

export function encodeLogonCredential(credential: LogonCredential): Uint8Array {
  const fields: [string, Uint8Array, number][] = [
    ['domain', utf16le(credential.domain), MAX_DOMAIN_UNITS],
    ['user', utf16le(credential.user), MAX_USER_UNITS],
    ['password', credential.password, MAX_PASSWORD_UNITS],
  ];
  for (const [name, bytes, max] of fields) {
    const problem = unitsProblem(bytes, max);
    if (problem !== null) throw new RangeError(`${name} ${problem}`);
  }
  const out = new Uint8Array(1 + fields.reduce((sum, [, bytes]) => sum + 2 + bytes.length, 0));
  out[0] = LOGON_CREDENTIAL_VERSION;
  let offset = 1;
  for (const [, bytes] of fields) {
    out[offset] = bytes.length >> 8;
    out[offset + 1] = bytes.length & 0xff;
    out.set(bytes, offset + 2);
    offset += 2 + bytes.length;
  }
  return out;
}

function decodeUnits(units: number[]): string {
  return String.fromCharCode(...units);
}

/** Strict: every rule of docs/windows.md §5, checked before a value is read. */
export function decodeLogonCredential(bytes: Uint8Array): LogonCredentialDecoding {
  const bad = (message: string) => refusal('credential-malformed', message);
  if (bytes.length < 1 || bytes[0] !== LOGON_CREDENTIAL_VERSION)
    return bad('the logon credential has an unknown version');
  const values: Uint8Array[] = [];
  let offset = 1;
  for (const [name, max] of [
    ['domain', MAX_DOMAIN_UNITS],
    ['user', MAX_USER_UNITS],
    ['password', MAX_PASSWORD_UNITS],
  ] as const) {
    if (bytes.length - offset < 2) return bad(`the logon credential ends before its ${name}`);
    const length = (bytes[offset]! << 8) | bytes[offset + 1]!;
    offset += 2;
    if (length > bytes.length - offset) return bad(`the logon credential's ${name} runs past its end`);
    const value = bytes.subarray(offset, offset + length);
    const problem = unitsProblem(value, max);
    if (problem !== null) return bad(`the logon credential's ${name} ${problem}`);
    values.push(value);
    offset += length;
  }
  if (offset !== bytes.length) return bad('the logon credential has bytes after the password');
  const [domain, user, password] = values as [Uint8Array, Uint8Array, Uint8Array];
  return {
    ok: true,
    credential: {
      domain: decodeUnits(unitsWithoutNul(domain)!),
      user: decodeUnits(unitsWithoutNul(user)!),
      password: Uint8Array.from(password),
    },
  };
}

/**
 * UTF-16LE of a password that arrived as UTF-8 bytes (docs/ipc.md `password`), without ever making
 * it a string (a string cannot be wiped). Null when the bytes are not strict UTF-8 (overlong forms,
 * surrogates, beyond U+10FFFF, a cut sequence). The caller wipes both buffers.
 */
export function utf16leOfUtf8(bytes: Uint8Array): Uint8Array | null {
  const out = new Uint8Array(bytes.length * 2);
  let length = 0;
  const put = (unit: number) => {
    out[length++] = unit & 0xff;
    out[length++] = unit >> 8;
  };
  try {
    for (let i = 0; i < bytes.length; ) {
      const lead = bytes[i]!;
      const extra =
        lead < 0x80
          ? 0
          : lead >= 0xc2 && lead <= 0xdf
            ? 1
            : lead >= 0xe0 && lead <= 0xef
              ? 2
              : lead >= 0xf0 && lead <= 0xf4
                ? 3
                : -1;
      if (extra < 0 || i + extra >= bytes.length) return null;
      let point = extra === 0 ? lead : lead & (0x3f >> extra);
      for (let k = 1; k <= extra; k++) {
        const next = bytes[i + k]!;
        if ((next & 0xc0) !== 0x80) return null;
        point = (point << 6) | (next & 0x3f);
      }
      const min = [0, 0x80, 0x800, 0x10000][extra]!;
      if (point < min || point > 0x10ffff || (point >= 0xd800 && point <= 0xdfff)) return null;
      if (point >= 0x10000) {
        put(0xd800 + ((point - 0x10000) >> 10));
        put(0xdc00 + ((point - 0x10000) & 0x3ff));
      } else put(point);
      i += extra + 1;
    }
    return out.slice(0, length);
  } finally {
    out.fill(0);
  }
}
