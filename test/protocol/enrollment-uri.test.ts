import { describe, expect, it } from 'vitest';
import { buildEnrollmentUri, parseEnrollmentUri } from '../../protocol/enrollment-uri.js';

const seed = Uint8Array.from({ length: 32 }, (_, i) => i);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const numericPool = {
  user: 'alice',
  host: 'ws1',
  authenticatorId: 'phone',
  format: { charset: 'numeric', length: 8 },
  counter: 0,
  count: 25,
} as const;

describe('enrollment import URIs', () => {
  it('numeric pools are otpauth Key URIs any HOTP app can import', () => {
    const uri = text(buildEnrollmentUri({ ...numericPool, seed }));
    expect(uri).toMatch(
      /^otpauth:\/\/hotp\/Latchkey:alice%40ws1\?secret=AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQTCQKRMFYYDENBWHA5DYPQ&issuer=Latchkey&algorithm=SHA1&digits=8&counter=0/,
    );
    const parsed = parseEnrollmentUri(uri);
    expect(parsed).toMatchObject(numericPool);
    expect(parsed.seed).toEqual(seed);
  });

  it('alphanumeric pools use the latchkey scheme and round-trip odd user names', () => {
    const user = 'jürgen&co@corp';
    const uri = text(
      buildEnrollmentUri({
        user,
        host: 'h',
        authenticatorId: 'pixel.8',
        format: { charset: 'alphanumeric', length: 10 },
        counter: 7,
        count: 100,
        seed,
      }),
    );
    expect(uri.startsWith('latchkey://offline-pins?v=1&')).toBe(true);
    expect(parseEnrollmentUri(uri)).toMatchObject({
      user,
      authenticatorId: 'pixel.8',
      format: { charset: 'alphanumeric', length: 10 },
      counter: 7,
      count: 100,
    });
  });

  it('refuses URIs that are not import URIs, with a reason', () => {
    expect(() => parseEnrollmentUri('https://example.invalid/?secret=AA')).toThrow(/not an otpauth/);
    expect(() => parseEnrollmentUri('otpauth://totp/x?secret=AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQT')).toThrow(
      /not an otpauth/,
    );
    expect(() =>
      parseEnrollmentUri('otpauth://hotp/x?secret=AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQT&digits=9&counter=0'),
    ).toThrow(/digits/);
    expect(() => parseEnrollmentUri('otpauth://hotp/x?secret=AAAA&digits=6&counter=0')).toThrow(/16–64 bytes/);
    expect(() => parseEnrollmentUri('latchkey://offline-pins?v=2&secret=AA')).toThrow(/version/);
    expect(() => parseEnrollmentUri('not a uri')).toThrow(/not a URI/);
  });
});
