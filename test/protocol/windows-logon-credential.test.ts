/** docs/windows.md §5: the logon credential against the Python vectors, both ways. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../protocol/bytes.js';
import {
  MAX_LOGON_CREDENTIAL_BYTES,
  decodeLogonCredential,
  encodeLogonCredential,
  utf16le,
  utf16leOfUtf8,
} from '../../protocol/windows-logon-credential.js';

const { valid, invalid } = (
  JSON.parse(readFileSync(new URL('../vectors/windows-credential.json', import.meta.url), 'utf8')) as {
    logonCredential: {
      valid: { name: string; domain: string; user: string; passwordHex: string; hex: string }[];
      invalid: { name: string; hex: string }[];
    };
  }
).logonCredential;

describe('the logon credential', () => {
  it.each(valid.map((c) => [c.name, c] as const))('encodes and decodes %s', (_name, c) => {
    expect(toHex(encodeLogonCredential({ domain: c.domain, user: c.user, password: fromHex(c.passwordHex) }))).toBe(
      c.hex,
    );
    const decoded = decodeLogonCredential(fromHex(c.hex));
    expect(
      decoded.ok && {
        domain: decoded.credential.domain,
        user: decoded.credential.user,
        passwordHex: toHex(decoded.credential.password),
      },
    ).toEqual({
      domain: c.domain,
      user: c.user,
      passwordHex: c.passwordHex,
    });
  });

  it.each(invalid.map((c) => [c.name, c] as const))('refuses %s', (_name, c) => {
    expect(decodeLogonCredential(fromHex(c.hex))).toMatchObject({ ok: false, code: 'credential-malformed' });
  });

  it('the largest fits the IPC secret field (2,048 bytes)', () => {
    const largest = valid.find((c) => c.name === 'longest of each')!;
    expect(fromHex(largest.hex).length).toBe(MAX_LOGON_CREDENTIAL_BYTES);
    expect(MAX_LOGON_CREDENTIAL_BYTES).toBeLessThanOrEqual(2048);
  });

  it('names the field an encoder cannot send', () => {
    expect(() => encodeLogonCredential({ domain: '', user: 'a', password: utf16le('p') })).toThrow(/^domain must be/);
    expect(() => encodeLogonCredential({ domain: 'D', user: 'a'.repeat(257), password: utf16le('p') })).toThrow(
      /^user must be/,
    );
    expect(() => encodeLogonCredential({ domain: 'D', user: 'a', password: new Uint8Array(3) })).toThrow(
      /^password must be/,
    );
    expect(() => encodeLogonCredential({ domain: 'D', user: '\uD800', password: utf16le('p') })).toThrow(
      /lone surrogate/,
    );
  });
});

describe('utf16leOfUtf8 (a password from docs/ipc.md `password`, never a string)', () => {
  it('converts strict UTF-8, surrogate pairs included, as TextDecoder and utf16le do', () => {
    for (const text of [
      'hunter2',
      'p\u00e4ssw\u00f6rd \u2603',
      'pass\u{1F511}word',
      '\u007f\u0080\u07ff\u0800\uffff\u{10000}\u{10ffff}',
    ])
      expect(Buffer.from(utf16leOfUtf8(Buffer.from(text, 'utf8'))!).equals(Buffer.from(utf16le(text)))).toBe(true);
    expect(utf16leOfUtf8(new Uint8Array(0))).toEqual(new Uint8Array(0));
  });

  it('refuses what a strict decoder refuses', () => {
    const invalid = {
      'a lone continuation byte': [0x80],
      'a cut two-byte sequence': [0x61, 0xc3],
      'a cut four-byte sequence': [0xf0, 0x9f, 0x94],
      'an overlong slash': [0xc0, 0xaf],
      'an overlong three-byte form': [0xe0, 0x80, 0xaf],
      'an encoded surrogate': [0xed, 0xa0, 0x80],
      'beyond U+10FFFF': [0xf4, 0x90, 0x80, 0x80],
      'a lead byte 0xFF': [0xff],
      'a continuation that is not one': [0xc3, 0x28],
    };
    for (const [name, bytes] of Object.entries(invalid)) expect(utf16leOfUtf8(Uint8Array.from(bytes)), name).toBeNull();
  });
});
