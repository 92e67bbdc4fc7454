/**
 * Who a Windows process or pipe client is, from its token: the user SID (TokenUser), and whether
 * it may act for any user — SYSTEM, or a member of Administrators in an elevated token
 * (CheckTokenMembership: a filtered, non-elevated token has the group for deny only). The rule
 * is SO_PEERCRED's (docs/ipc.md "Peer credentials", docs/windows.md §3).
 */
import type { Caller } from '../ipc-transport.js';
import { SystemError, type SystemErrorCode } from '../system-error.js';
import { ADMINISTRATORS_SID, SYSTEM_SID } from './security-descriptor.js';
import { check, describeWin32Error, type Pointer, type Win32 } from './win32.js';

const TOKEN_QUERY = 0x8;
const TOKEN_USER = 1;
const TOKEN_INFO_BYTES = 256;

/** SYSTEM, elevated administrators, and the agent's own account may act for anyone. */
export function mayActForAnyone(sid: string, elevatedAdministrator: boolean, agentSid: string): boolean {
  return sid === SYSTEM_SID || elevatedAdministrator || sid === agentSid;
}

let administrators: Pointer | undefined;
function administratorsSid(win: Win32, code: SystemErrorCode): Pointer {
  if (administrators === undefined) {
    const sid: [Pointer] = [null];
    check(win, win.ConvertStringSidToSidW(ADMINISTRATORS_SID, sid), code, 'ConvertStringSidToSidW');
    administrators = sid[0];
  }
  return administrators;
}

/** The string SID at `sid` (a PSID). */
export function sidToString(win: Win32, sid: Pointer, code: SystemErrorCode): string {
  const text: [Pointer] = [null];
  check(win, win.ConvertSidToStringSidW(sid, text), code, 'ConvertSidToStringSidW');
  try {
    return win.readWide(text[0]);
  } finally {
    win.LocalFree(text[0]);
  }
}

/** The user SID of `token`. */
export function tokenUser(win: Win32, token: number, code: SystemErrorCode): string {
  const { koffi } = win;
  const info = koffi.alloc('uint8_t', TOKEN_INFO_BYTES);
  try {
    const length: [number] = [0];
    check(win, win.GetTokenInformation(token, TOKEN_USER, info, TOKEN_INFO_BYTES, length), code, 'GetTokenInformation');
    // TOKEN_USER { SID_AND_ATTRIBUTES { PSID Sid; DWORD Attributes } }: the SID lies in `info`.
    return sidToString(win, koffi.decode(info, 'void *'), code);
  } finally {
    koffi.free(info);
  }
}

function elevatedAdministrator(win: Win32, token: number, code: SystemErrorCode): boolean {
  const member: [number] = [0];
  check(win, win.CheckTokenMembership(token, administratorsSid(win, code), member), code, 'CheckTokenMembership');
  return member[0] !== 0;
}

let self: { sid: string; administrator: boolean } | undefined;

/** This process's account and whether it is SYSTEM or an elevated administrator (read once). */
export function processIdentity(win: Win32, code: SystemErrorCode): { sid: string; administrator: boolean } {
  if (self) return self;
  const token: [number] = [0];
  check(win, win.OpenProcessToken(win.GetCurrentProcess(), TOKEN_QUERY, token), code, 'OpenProcessToken');
  try {
    const sid = tokenUser(win, token[0], code);
    // CheckTokenMembership with no token checks this thread's (the process's) own.
    self = { sid, administrator: sid === SYSTEM_SID || elevatedAdministrator(win, 0, code) };
    return self;
  } finally {
    win.CloseHandle(token[0]);
  }
}

/**
 * The caller on a pipe instance that has read a message: its pid, then its token by impersonation
 * on this (the main) thread — quick calls, no waiting — and RevertToSelf on the same thread
 * before anything else runs. A thread that cannot stop impersonating must not run the agent on.
 */
export function callerFromToken(win: Win32, pipe: number): Caller {
  const code = 'peer-credentials-unavailable';
  const pid: [number] = [0];
  check(win, win.GetNamedPipeClientProcessId(pipe, pid), code, 'GetNamedPipeClientProcessId');
  check(win, win.ImpersonateNamedPipeClient(pipe), code, 'ImpersonateNamedPipeClient');
  const token: [number] = [0];
  let openError = 0;
  try {
    // OpenAsSelf: the agent's own rights open the token, not the client's.
    if (win.OpenThreadToken(win.GetCurrentThread(), TOKEN_QUERY, 1, token) === 0) openError = win.GetLastError();
  } finally {
    if (win.RevertToSelf() === 0) {
      process.stderr.write(`latchkey: RevertToSelf failed (${describeWin32Error(win.GetLastError())}); stopping\n`);
      process.abort();
    }
  }
  if (openError !== 0) throw new SystemError(code, `OpenThreadToken failed: ${describeWin32Error(openError)}`);
  try {
    const sid = tokenUser(win, token[0], code);
    const agent = processIdentity(win, code).sid;
    const admin = mayActForAnyone(sid, elevatedAdministrator(win, token[0], code), agent);
    return { pid: pid[0], uid: sid, account: sid, admin, privileged: sid === SYSTEM_SID || sid === agent };
  } finally {
    win.CloseHandle(token[0]);
  }
}
