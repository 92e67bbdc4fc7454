/**
 * The import URI a phone reads at enrollment (docs/offline-pins.md): a Key URI
 * (`otpauth://hotp/…`) for numeric pools, `latchkey://offline-pins?…` for alphanumeric ones.
 * Built as bytes because it carries the seed.
 */
import { decodeBase32, encodeBase32 } from './base32.js';
import { concatBytes, utf8, wipe } from './bytes.js';
import { ProtocolError } from './errors.js';
import { MAX_COUNTER, checkPinFormat, type PinFormat } from './offline-pin.js';

export interface EnrollmentImport {
  readonly user: string;
  readonly host: string;
  readonly authenticatorId: string;
  readonly format: PinFormat;
  readonly counter: number;
  readonly count: number;
  /** The pool seed. The caller wipes it. */
  readonly seed: Uint8Array;
}

export const ISSUER = 'Latchkey';

export function buildEnrollmentUri(data: EnrollmentImport): Uint8Array {
  checkPinFormat(data.format);
  const secret = encodeBase32(data.seed);
  const q = encodeURIComponent;
  let head: string;
  let tail: string;
  if (data.format.charset === 'numeric') {
    head = `otpauth://hotp/${q(ISSUER)}:${q(`${data.user}@${data.host}`)}?secret=`;
    tail =
      `&issuer=${q(ISSUER)}&algorithm=SHA1&digits=${data.format.length}&counter=${data.counter}` +
      `&latchkey_user=${q(data.user)}&latchkey_authenticator=${q(data.authenticatorId)}&latchkey_count=${data.count}`;
  } else {
    head = `latchkey://offline-pins?v=1&user=${q(data.user)}&host=${q(data.host)}&authenticator=${q(data.authenticatorId)}&secret=`;
    tail = `&counter=${data.counter}&count=${data.count}&length=${data.format.length}&charset=alphanumeric`;
  }
  const uri = concatBytes(utf8(head), secret, utf8(tail));
  wipe(secret);
  return uri;
}

function integer(params: URLSearchParams, name: string, min: number, max: number): number {
  const text = params.get(name);
  if (text === null || !/^\d+$/.test(text)) throw new ProtocolError('bad-uri', `the import URI has no numeric ${name}`);
  const value = Number(text);
  if (value < min || value > max)
    throw new ProtocolError('bad-uri', `the import URI's ${name} must be from ${min} to ${max}`);
  return value;
}

/** Parses an import URI (the phone side; tests and `latchkey pins`). */
export function parseEnrollmentUri(uri: string): EnrollmentImport {
  let url: URL;
  try {
    url = new URL(uri);
  } catch (error) {
    throw new ProtocolError('bad-uri', 'not a URI', { cause: error });
  }
  const params = url.searchParams;
  const secret = params.get('secret');
  if (secret === null) throw new ProtocolError('bad-uri', 'the import URI has no secret');
  const seed = decodeBase32(secret);
  let result: EnrollmentImport;
  if (url.protocol === 'otpauth:' && url.host === 'hotp') {
    if ((params.get('algorithm') ?? 'SHA1').toUpperCase() !== 'SHA1')
      throw new ProtocolError('bad-uri', 'only SHA1 HOTP is used');
    const label = decodeURIComponent(url.pathname.replace(/^\//, ''));
    const account = label.includes(':') ? label.slice(label.indexOf(':') + 1) : label;
    const at = account.lastIndexOf('@');
    result = {
      user: params.get('latchkey_user') ?? (at > 0 ? account.slice(0, at) : account),
      host: at > 0 ? account.slice(at + 1) : '',
      authenticatorId: params.get('latchkey_authenticator') ?? 'phone',
      format: { charset: 'numeric', length: integer(params, 'digits', 6, 8) },
      counter: integer(params, 'counter', 0, MAX_COUNTER),
      count: params.has('latchkey_count') ? integer(params, 'latchkey_count', 1, 100) : 100,
      seed,
    };
  } else if (url.protocol === 'latchkey:' && url.host === 'offline-pins') {
    if (params.get('v') !== '1') throw new ProtocolError('bad-uri', 'unsupported import URI version');
    if (params.get('charset') !== 'alphanumeric') throw new ProtocolError('bad-uri', 'unsupported charset');
    result = {
      user: params.get('user') ?? '',
      host: params.get('host') ?? '',
      authenticatorId: params.get('authenticator') ?? 'phone',
      format: { charset: 'alphanumeric', length: integer(params, 'length', 6, 13) },
      counter: integer(params, 'counter', 0, MAX_COUNTER),
      count: integer(params, 'count', 1, 100),
      seed,
    };
  } else {
    throw new ProtocolError('bad-uri', 'not an otpauth://hotp or latchkey://offline-pins URI');
  }
  if (seed.length < 16 || seed.length > 64)
    throw new ProtocolError('bad-uri', 'the import URI secret must be 16–64 bytes');
  return result;
}
