import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lookupUserByName, lookupUserByUid } from '../../../platform/linux/users.js';
import { administer, removeUser, requireRoot } from './helpers.js';

// glibc's _SC_GETPW_R_SIZE_MAX hint is 1,024 bytes; this user's record is longer, so the lookup
// only succeeds if ERANGE is retried with a larger buffer.
const LONG_USER = 'latchkey-longgecos';
const LONG_GECOS = 'x'.repeat(3000);
const UNUSED_UID = 3_999_999_999;

/** The same record through an independent implementation (getent). */
function getent(key: string) {
  const [name, , uid, gid, , home, shell] = execFileSync('getent', ['passwd', key], { encoding: 'utf8' })
    .trim()
    .split(':');
  return { name, uid: Number(uid), gid: Number(gid), home, shell };
}

beforeAll(() => {
  requireRoot('The user lookup suite');
  removeUser(LONG_USER);
  administer('useradd', ['-M', '-s', '/usr/sbin/nologin', '-c', LONG_GECOS, LONG_USER]);
});

afterAll(() => {
  if (process.getuid?.() === 0) removeUser(LONG_USER);
});

describe('lookupUserByName / lookupUserByUid (getpw*_r through NSS)', () => {
  it('finds root and nobody by name, matching getent', () => {
    expect(lookupUserByName('root')).toEqual({ ...getent('root'), uid: 0, gid: 0 });
    expect(lookupUserByName('nobody')).toEqual({ ...getent('nobody'), uid: 65534 });
  });

  it('finds the same users by uid', () => {
    expect(lookupUserByUid(0)).toEqual(lookupUserByName('root'));
    expect(lookupUserByUid(65534)?.name).toBe('nobody');
  });

  it('answers null for a name or uid that does not exist', () => {
    expect(lookupUserByName('latchkey-no-such-user')).toBeNull();
    expect(lookupUserByUid(UNUSED_UID)).toBeNull();
  });

  it('reads a record larger than the libc buffer hint (retries on ERANGE)', () => {
    const record = lookupUserByName(LONG_USER);
    expect(record).toEqual(getent(LONG_USER));
    expect(lookupUserByUid(record!.uid)?.name).toBe(LONG_USER);
  });

  it('refuses names C would read differently, and uids out of range, naming the parameter', () => {
    expect(() => lookupUserByName('root\0evil')).toThrow(TypeError);
    expect(() => lookupUserByName('')).toThrow(/name/);
    expect(() => lookupUserByName('a'.repeat(257))).toThrow(RangeError);
    expect(() => lookupUserByUid(-1)).toThrow(/uid/);
    expect(() => lookupUserByUid(0xffff_ffff)).toThrow(RangeError);
    expect(() => lookupUserByUid(1.5)).toThrow(RangeError);
  });
});
