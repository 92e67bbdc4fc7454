// The pure parts of platform/windows/: SIDs, security descriptors in SDDL and the access rule
// over them, account names, the caller rule, and the DACL of a directory the agent makes. The
// Win32 calls around them run under wine (test/windows/agent.integration.test.ts).
import { describe, expect, it } from 'vitest';
import {
  REPLACE_RIGHTS,
  SddlError,
  accessProblem,
  isSid,
  parseAccountName,
  parseSecurityDescriptor,
  rightsProblem,
  sidFromSddl,
} from '../../platform/windows/security-descriptor.js';
import { directorySddl } from '../../platform/windows/secure-path.js';
import { mayActForAnyone } from '../../platform/windows/tokens.js';

const USER = 'S-1-5-21-0-0-0-1000';
const OTHER = 'S-1-5-21-0-0-0-1001';
const TRUSTED = ['S-1-5-18', 'S-1-5-32-544'];

describe('SIDs', () => {
  it('accepts string SIDs and SDDL aliases, refuses anything else', () => {
    expect(isSid('S-1-5-18')).toBe(true);
    expect(isSid(USER)).toBe(true);
    expect(isSid('S-1-5-4294967296')).toBe(false);
    expect(isSid('S-2-5-18')).toBe(false);
    expect(isSid('S-1-5')).toBe(false);
    expect(isSid('root')).toBe(false);
    expect(sidFromSddl('SY')).toBe('S-1-5-18');
    expect(sidFromSddl('BA')).toBe('S-1-5-32-544');
    expect(sidFromSddl('WD')).toBe('S-1-1-0');
    expect(sidFromSddl('ZZ')).toBeNull();
  });
});

describe('security descriptors', () => {
  it('reads what the MSI and the agent write: a protected DACL for SYSTEM and Administrators', () => {
    const descriptor = parseSecurityDescriptor('O:SYD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)');
    expect(descriptor.owner).toBe('S-1-5-18');
    expect(descriptor.protectedDacl).toBe(true);
    expect(descriptor.dacl?.map((e) => [e.type, e.sid, e.rights])).toEqual([
      ['allow', 'S-1-5-18', 0x1f01ff],
      ['allow', 'S-1-5-32-544', 0x1f01ff],
    ]);
    expect(accessProblem(descriptor, TRUSTED, 0o077)).toBeNull();
  });

  it("refuses a secret others can read: wine's default file descriptor", () => {
    // what wine 8 reports for any file it created (docs/windows.md §10)
    const wine = parseSecurityDescriptor(`O:${USER}D:(A;;FA;;;SY)(A;;FA;;;${USER})(A;;0x1200a9;;;WD)`);
    expect(accessProblem(wine, [...TRUSTED, USER], 0o077)).toMatch(/lets S-1-1-0 in/);
    // reading is not writing: a settings file may be readable by everyone
    expect(accessProblem(wine, [...TRUSTED, USER], 0o022)).toBeNull();
  });

  it('refuses write access for others, an untrusted owner, no DACL, an unknown alias', () => {
    const writable = parseSecurityDescriptor('O:BAD:(A;;FA;;;SY)(A;;0x120116;;;BU)');
    expect(accessProblem(writable, TRUSTED, 0o022)).toMatch(/S-1-5-32-545 change it/);
    expect(accessProblem(parseSecurityDescriptor(`O:${OTHER}D:P(A;;FA;;;SY)`), TRUSTED, 0o022)).toMatch(
      /owned by S-1-5-21-0-0-0-1001/,
    );
    expect(accessProblem(parseSecurityDescriptor('O:SY'), TRUSTED, 0o022)).toMatch(/no access list/);
    expect(accessProblem(parseSecurityDescriptor('O:SYD:NO_ACCESS_CONTROL'), TRUSTED, 0o022)).toMatch(/no access list/);
    expect(accessProblem(parseSecurityDescriptor('O:SYD:(A;;GA;;;ZZ)'), TRUSTED, 0o022)).toMatch(/unknown account/);
  });

  it('ignores deny entries and entries only children inherit', () => {
    const descriptor = parseSecurityDescriptor('O:SYD:P(D;;FA;;;WD)(A;OICIIO;FA;;;CO)(A;;FA;;;SY)');
    expect(accessProblem(descriptor, TRUSTED, 0o077)).toBeNull();
  });

  it('lets users add folders above the state directory but not replace what is there', () => {
    // C:\ on Windows: Authenticated Users may create folders (AppendData), not delete children
    const root = parseSecurityDescriptor('O:SYD:(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;;0x4;;;AU)(A;OICI;0x1200a9;;;BU)');
    expect(rightsProblem(root, TRUSTED, REPLACE_RIGHTS)).toBeNull();
    const open = parseSecurityDescriptor('O:SYD:(A;OICI;FA;;;SY)(A;;0x1301bf;;;AU)');
    expect(rightsProblem(open, TRUSTED, REPLACE_RIGHTS)).toMatch(/S-1-5-11 change it/);
  });

  it('refuses what it cannot read', () => {
    for (const bad of [
      '',
      'X:SY',
      'O:SYD:(A;;FA;;SY)',
      'O:SYD:(Q;;FA;;;SY)',
      'O:SYD:(A;;QQ;;;SY)',
      'O:SYD:(A;;FA;;;SY',
      'O:SYO:BA',
    ])
      expect(() => parseSecurityDescriptor(bad), bad).toThrow(SddlError);
  });
});

describe('the DACL of a directory the agent makes', () => {
  it('gives SYSTEM, Administrators and the agent only, inherited by what is made inside', () => {
    expect(directorySddl('S-1-5-18', 0o700)).toBe('D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)');
    expect(directorySddl(USER, 0o700)).toBe(`D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FA;;;${USER})`);
    expect(directorySddl('S-1-5-18', 0o755)).toBe('D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FRFX;;;AU)');
    const made = parseSecurityDescriptor(`O:SY${directorySddl('S-1-5-18', 0o700)}`);
    expect(accessProblem(made, TRUSTED, 0o077)).toBeNull();
  });
});

describe('account names', () => {
  it('reads DOMAIN\\name, .\\name, name and name@domain', () => {
    expect(parseAccountName('CORP\\alice')).toEqual({ domain: 'CORP', name: 'alice' });
    expect(parseAccountName('.\\alice')).toEqual({ domain: '.', name: 'alice' });
    expect(parseAccountName('alice')).toEqual({ domain: null, name: 'alice' });
    expect(parseAccountName('alice@corp.example')).toEqual({ domain: null, name: 'alice@corp.example' });
  });

  it('refuses what Windows never names an account', () => {
    for (const bad of ['', 'a\\b\\c', '\\alice', 'CORP\\', 'a/b', 'a:b', 'a*', 'x'.repeat(257), 'a\u0001b'])
      expect(() => parseAccountName(bad), JSON.stringify(bad)).toThrow(RangeError);
  });
});

describe("the caller rule (SO_PEERCRED's, docs/windows.md §3)", () => {
  it('SYSTEM, an elevated administrator and the agent own account act for anyone; others only for themselves', () => {
    expect(mayActForAnyone('S-1-5-18', false, 'S-1-5-18')).toBe(true);
    expect(mayActForAnyone(USER, true, 'S-1-5-18')).toBe(true);
    expect(mayActForAnyone(USER, false, 'S-1-5-18')).toBe(false);
    expect(mayActForAnyone(USER, false, USER)).toBe(true);
  });
});
