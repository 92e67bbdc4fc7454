/** docs/windows.md §5: the logon credential against the Python vectors, both ways. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../protocol/bytes.js';
import {
  MAX_LOGON_CREDENTIAL_BYTES,
  decodeLogonCredential,
  encodeLogonCredential,
  utf16le,
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
