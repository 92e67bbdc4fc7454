/**
 * Local user records through NSS (getpwnam_r/getpwuid_r, so LDAP/SSSD users resolve too).
 * `null` means the user does not exist; any other failure throws, so an NSS outage is never
 * mistaken for "no such user".
 */
import { SystemError, requireLinux } from '../system-error.js';
import { describeErrno, useLibc, type Libc, type Passwd } from './libc.js';
import type { Platform } from '../platform.js';

export interface UserRecord {
  /** As NSS spells it (a case-insensitive backend may return another spelling than asked). */
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

const CODE = 'user-lookup-failed';
const _SC_GETPW_R_SIZE_MAX = 70;
const DEFAULT_BUFFER_BYTES = 16 * 1024;
const MAX_BUFFER_BYTES = 1024 * 1024;
/** docs/ipc.md: the `user` field is 1–256 bytes. */
export const MAX_USER_NAME_BYTES = 256;
const MAX_UID = 0xffff_fffe; // (uid_t)-1 means "no uid"
const ERANGE = 34;
const EINTR = 4;

export function lookupUserByName(name: string): UserRecord | null {
  if (typeof name !== 'string') throw new TypeError('name must be a string');
  const bytes = Buffer.byteLength(name);
  if (bytes === 0 || bytes > MAX_USER_NAME_BYTES)
    throw new RangeError(`name must be 1–${MAX_USER_NAME_BYTES} bytes, got ${bytes}`);
  // C would stop at the NUL and look up a different name.
  if (name.includes('\0')) throw new TypeError('name must not contain a NUL character');
  requireLinux(CODE, 'Looking up users');
  return lookup(`user ${JSON.stringify(name)}`, (libc, pwd, buf, result) =>
    libc.getpwnam_r(name, pwd, buf, buf.length, result),
  );
}

export function lookupUserByUid(uid: number): UserRecord | null {
  if (!Number.isInteger(uid) || uid < 0 || uid > MAX_UID)
    throw new RangeError(`uid must be an integer 0–${MAX_UID}, got ${uid}`);
  requireLinux(CODE, 'Looking up users');
  return lookup(`uid ${uid}`, (libc, pwd, buf, result) => libc.getpwuid_r(uid, pwd, buf, buf.length, result));
}

type Call = (libc: Libc, pwd: Partial<Passwd>, buf: Buffer, result: [unknown]) => number;

function lookup(what: string, call: Call): UserRecord | null {
  const libc = useLibc(CODE);
  let size = initialBufferSize(libc);
  for (;;) {
    const pwd: Partial<Passwd> = {};
    const result: [unknown] = [null];
    // The *_r functions return the error number (0 also for "not found").
    const status = call(libc, pwd, Buffer.alloc(size), result);
    if (status === EINTR) continue;
    if (status === ERANGE) {
      if (size >= MAX_BUFFER_BYTES)
        throw new SystemError(CODE, `looking up ${what}: the record does not fit in ${MAX_BUFFER_BYTES} bytes`);
      size = Math.min(size * 2, MAX_BUFFER_BYTES);
      continue;
    }
    if (status !== 0) throw new SystemError(CODE, `looking up ${what} failed: ${describeErrno(status)}`);
    if (result[0] === null || result[0] === undefined || result[0] === 0n) return null;
    return toRecord(what, pwd);
  }
}

function initialBufferSize(libc: Libc): number {
  const hint = Number(libc.sysconf(_SC_GETPW_R_SIZE_MAX));
  return hint > 0 && hint <= MAX_BUFFER_BYTES ? hint : DEFAULT_BUFFER_BYTES;
}

function toRecord(what: string, pwd: Partial<Passwd>): UserRecord {
  const { pw_name: name, pw_uid: uid, pw_gid: gid, pw_dir: home, pw_shell: shell } = pwd;
  if (typeof name !== 'string' || name === '' || typeof uid !== 'number' || typeof gid !== 'number') {
    throw new SystemError(CODE, `looking up ${what}: NSS returned an incomplete record`);
  }
  return { name, uid, gid, home: home ?? '', shell: shell ?? '' };
}

/** The users seam (platform/platform.ts): accounts are uids, root administers. */
export const linuxUsers: Platform['users'] = {
  byName: lookupUserByName,
  byId: (id) => (typeof id === 'number' ? lookupUserByUid(id) : null),
  current: () => process.getuid?.() ?? 0,
  isAdministrator: () => process.getuid?.() === 0,
};
