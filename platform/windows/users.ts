/**
 * Windows accounts (local or domain) through LookupAccountNameW / LookupAccountSidW: a user is
 * named `DOMAIN\name`, `name` or by its SID, and identified by its SID (the AccountId the pipe's
 * caller check compares). `null` means no such user account (ERROR_NONE_MAPPED, or a name that is
 * a group or a computer); any other failure — a domain controller out of reach — throws.
 */
import { SystemError } from '../system-error.js';
import type { Platform } from '../platform.js';
import type { UserRecord } from '../users.js';
import { isSid, parseAccountName } from './security-descriptor.js';
import { processIdentity, sidToString } from './tokens.js';
import { ERROR_INSUFFICIENT_BUFFER, ERROR_NONE_MAPPED, describeWin32Error, useWin32, type Pointer } from './win32.js';

const CODE = 'user-lookup-failed';
const SID_TYPE_USER = 1;
const MAX_SID_BYTES = 68;
const NAME_CHARS = 256;

function record(domain: string, name: string, sid: string): UserRecord {
  return { name: domain ? `${domain}\\${name}` : name, uid: sid, gid: 0, home: '', shell: '' };
}

export function lookupUserByName(text: string): UserRecord | null {
  if (typeof text !== 'string') throw new TypeError('name must be a string');
  if (isSid(text)) return lookupUserBySid(text);
  const account = parseAccountName(text);
  const win = useWin32(CODE);
  const query = account.domain === '.' ? account.name : text;
  const sid = Buffer.alloc(MAX_SID_BYTES);
  const domain = Buffer.alloc(NAME_CHARS * 2);
  const sidBytes: [number] = [MAX_SID_BYTES];
  const domainChars: [number] = [NAME_CHARS];
  const use: [number] = [0];
  if (win.LookupAccountNameW(null, query, sid, sidBytes, domain, domainChars, use) === 0) {
    const error = win.GetLastError();
    if (error === ERROR_NONE_MAPPED) return null;
    const why =
      error === ERROR_INSUFFICIENT_BUFFER
        ? 'the answer is longer than an account name can be'
        : describeWin32Error(error);
    throw new SystemError(CODE, `looking up the account ${JSON.stringify(text)} failed: ${why}`);
  }
  if (use[0] !== SID_TYPE_USER) return null;
  const sidText = sidToString(win, sid, CODE);
  return lookupUserBySid(sidText);
}

export function lookupUserBySid(sidText: string): UserRecord | null {
  if (!isSid(sidText)) throw new RangeError(`${JSON.stringify(sidText)} is not a SID`);
  const win = useWin32(CODE);
  const sid: [Pointer] = [null];
  if (win.ConvertStringSidToSidW(sidText, sid) === 0)
    throw new SystemError(CODE, `${sidText} is not a SID Windows accepts: ${describeWin32Error(win.GetLastError())}`);
  try {
    const name = Buffer.alloc(NAME_CHARS * 2);
    const domain = Buffer.alloc(NAME_CHARS * 2);
    const nameChars: [number] = [NAME_CHARS];
    const domainChars: [number] = [NAME_CHARS];
    const use: [number] = [0];
    if (win.LookupAccountSidW(null, sid[0], name, nameChars, domain, domainChars, use) === 0) {
      const error = win.GetLastError();
      if (error === ERROR_NONE_MAPPED) return null;
      throw new SystemError(CODE, `looking up the account ${sidText} failed: ${describeWin32Error(error)}`);
    }
    if (use[0] !== SID_TYPE_USER) return null;
    return record(
      domain.toString('utf16le', 0, domainChars[0] * 2),
      name.toString('utf16le', 0, nameChars[0] * 2),
      sidText,
    );
  } finally {
    win.LocalFree(sid[0]);
  }
}

const identity = () => processIdentity(useWin32(CODE), CODE);

/** The users seam (platform/platform.ts): accounts are SIDs, SYSTEM or an elevated administrator administers. */
export const windowsUsers: Platform['users'] = {
  byName: lookupUserByName,
  byId: (id) => (typeof id === 'string' ? lookupUserBySid(id) : null),
  current: () => identity().sid,
  isAdministrator: () => identity().administrator,
};
