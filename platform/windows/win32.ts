/**
 * The Win32 API through koffi (x64), loaded once and only when first needed. HANDLEs are
 * pointer-sized integers (`intptr_t`), so they can be kept in tables and written into the
 * handle array WaitForMultipleObjects takes. Memory the kernel writes after a call has
 * returned (OVERLAPPED, pipe buffers) is allocated with koffi.alloc, never a JavaScript buffer
 * that could move or be copied for the call.
 */
import { createRequire } from 'node:module';
import type KoffiModule from 'koffi';
import { SystemError, type SystemErrorCode } from '../system-error.js';

export type Koffi = typeof KoffiModule;
// biome-ignore lint/suspicious/noExplicitAny: koffi functions take and return whatever their C declaration says; the wrappers in this folder pin each use down
type Native = (...args: any[]) => any;
// biome-ignore lint/suspicious/noExplicitAny: a koffi external pointer
export type Pointer = any;

export const INVALID_HANDLE_VALUE = -1;
export const ERROR_FILE_NOT_FOUND = 2;
export const ERROR_ACCESS_DENIED = 5;
export const ERROR_INVALID_HANDLE = 6;
export const ERROR_BROKEN_PIPE = 109;
export const ERROR_INSUFFICIENT_BUFFER = 122;
export const ERROR_ALREADY_EXISTS = 183;
export const ERROR_MORE_DATA = 234;
export const ERROR_NO_DATA = 232;
export const ERROR_PIPE_CONNECTED = 535;
export const ERROR_PIPE_NOT_CONNECTED = 233;
export const ERROR_OPERATION_ABORTED = 995;
export const ERROR_IO_PENDING = 997;
export const ERROR_LOCK_VIOLATION = 33;
export const ERROR_NONE_MAPPED = 1332;
export const ERROR_LOGON_FAILURE = 1326;
export const WAIT_OBJECT_0 = 0;
export const WAIT_FAILED = 0xffffffff;
export const INFINITE = 0xffffffff;
export const SDDL_REVISION_1 = 1;
export const OWNER_SECURITY_INFORMATION = 0x1;
export const DACL_SECURITY_INFORMATION = 0x4;
export const PROTECTED_DACL_SECURITY_INFORMATION = 0x80000000;
export const SE_FILE_OBJECT = 1;
/** sizeof(OVERLAPPED) on x64: Internal, InternalHigh, Offset/OffsetHigh (a union with Pointer), hEvent. */
export const OVERLAPPED_BYTES = 32;
export const OVERLAPPED_EVENT_OFFSET = 24;

export interface Win32 {
  readonly koffi: Koffi;
  // kernel32
  GetLastError(): number;
  CloseHandle(handle: number): number;
  LocalFree(memory: Pointer): Pointer;
  CreateEventW(attributes: null, manualReset: number, initialState: number, name: null): number;
  SetEvent(event: number): number;
  ResetEvent(event: number): number;
  CreateNamedPipeW(
    name: string,
    openMode: number,
    pipeMode: number,
    maxInstances: number,
    outBytes: number,
    inBytes: number,
    timeoutMs: number,
    attributes: SecurityAttributes | null,
  ): number;
  ConnectNamedPipe(pipe: number, overlapped: Pointer): number;
  DisconnectNamedPipe(pipe: number): number;
  GetNamedPipeClientProcessId(pipe: number, pid: [number]): number;
  GetNamedPipeServerProcessId(pipe: number, pid: [number]): number;
  ReadFile(file: number, buffer: Pointer, bytes: number, read: null, overlapped: Pointer): number;
  WriteFile(file: number, buffer: Pointer, bytes: number, written: null, overlapped: Pointer): number;
  GetOverlappedResult(file: number, overlapped: Pointer, transferred: [number], wait: number): number;
  CancelIoEx(file: number, overlapped: Pointer | null): number;
  WaitForMultipleObjects: Native & { async: Native };
  CreateFileW(
    name: string,
    access: number,
    share: number,
    attributes: null,
    disposition: number,
    flags: number,
    template: number,
  ): number;
  LockFileEx(file: number, flags: number, reserved: number, low: number, high: number, overlapped: Pointer): number;
  FlushFileBuffers(file: number): number;
  MoveFileExW(from: string, to: string, flags: number): number;
  WaitNamedPipeW(name: string, timeoutMs: number): number;
  CreateDirectoryW(path: string, attributes: SecurityAttributes | null): number;
  GetTickCount64(): number | bigint;
  GetCurrentProcess(): number;
  GetCurrentThread(): number;
  // advapi32
  ConvertStringSecurityDescriptorToSecurityDescriptorW(
    sddl: string,
    revision: number,
    descriptor: [Pointer],
    size: null,
  ): number;
  ConvertSecurityDescriptorToStringSecurityDescriptorW(
    descriptor: Pointer,
    revision: number,
    information: number,
    sddl: [Pointer],
    length: null,
  ): number;
  GetNamedSecurityInfoW(
    name: string,
    type: number,
    information: number,
    owner: null,
    group: null,
    dacl: null,
    sacl: null,
    descriptor: [Pointer],
  ): number;
  ImpersonateNamedPipeClient(pipe: number): number;
  RevertToSelf(): number;
  OpenThreadToken(thread: number, access: number, openAsSelf: number, token: [number]): number;
  OpenProcessToken(process: number, access: number, token: [number]): number;
  GetTokenInformation(token: number, klass: number, buffer: Buffer | null, length: number, returned: [number]): number;
  CheckTokenMembership(token: number, sid: Buffer, member: [number]): number;
  ConvertSidToStringSidW(sid: Buffer, text: [Pointer]): number;
  ConvertStringSidToSidW(text: string, sid: [Pointer]): number;
  GetLengthSid(sid: Pointer): number;
  LookupAccountNameW(
    system: null,
    name: string,
    sid: Buffer,
    sidBytes: [number],
    domain: Buffer,
    domainChars: [number],
    use: [number],
  ): number;
  LookupAccountSidW(
    system: null,
    sid: Buffer,
    name: Buffer,
    nameChars: [number],
    domain: Buffer,
    domainChars: [number],
    use: [number],
  ): number;
  /** In a worker thread only (password-check-worker.ts): a domain account's check waits on the network. */
  LogonUserW(user: string, domain: string, password: Pointer, type: number, provider: number, token: [number]): number;
  RegGetValueW(
    key: number,
    subKey: string,
    value: string,
    flags: number,
    type: null,
    data: [number],
    bytes: [number],
  ): number;
  // crypt32
  CryptProtectData: DpapiCall;
  CryptUnprotectData: DpapiCall;
  // shell32
  SHGetKnownFolderPath(folder: Buffer, flags: number, token: null, path: [Pointer]): number;
  CoTaskMemFree(memory: Pointer): void;
  // ntdll: present only under wine
  wineVersion: (() => string) | null;
  /** A UTF-16 string at `pointer` (from LocalAlloc / CoTaskMemAlloc), read up to its NUL. */
  readWide(pointer: Pointer): string;
}

/** CryptProtectData and CryptUnprotectData: input, description, entropy, reserved, prompt, flags, output. */
type DpapiCall = (
  input: DataBlob,
  description: null,
  entropy: null,
  reserved: null,
  prompt: null,
  flags: number,
  output: Partial<DataBlob>,
) => number;

export interface SecurityAttributes {
  nLength: number;
  lpSecurityDescriptor: Pointer;
  bInheritHandle: number;
}

export interface DataBlob {
  cbData: number;
  pbData: Pointer;
}

let cached: Win32 | undefined;

/** The bound Win32 API; a load failure becomes a SystemError with the caller's code. */
export function useWin32(code: SystemErrorCode): Win32 {
  if (cached) return cached;
  if (process.platform !== 'win32')
    throw new SystemError(code, `the Win32 API is only there on Windows (this is ${process.platform})`);
  try {
    cached = bind(createRequire(import.meta.url)('koffi') as Koffi);
  } catch (error) {
    throw new SystemError(code, `cannot load the Win32 API through koffi: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return cached;
}

/** "ERROR 5", for messages (Win32 error codes are stable and searchable). */
export function describeWin32Error(code: number): string {
  const names: Record<number, string> = {
    [ERROR_FILE_NOT_FOUND]: 'ERROR_FILE_NOT_FOUND',
    [ERROR_ACCESS_DENIED]: 'ERROR_ACCESS_DENIED',
    [ERROR_BROKEN_PIPE]: 'ERROR_BROKEN_PIPE',
    [ERROR_ALREADY_EXISTS]: 'ERROR_ALREADY_EXISTS',
    [ERROR_LOCK_VIOLATION]: 'ERROR_LOCK_VIOLATION',
    [ERROR_NONE_MAPPED]: 'ERROR_NONE_MAPPED',
    [ERROR_LOGON_FAILURE]: 'ERROR_LOGON_FAILURE',
  };
  return names[code] ? `${names[code]} (${code})` : `Win32 error ${code}`;
}

/** Throws a SystemError naming `what` and the thread's last error when `ok` is false. */
export function check(win: Win32, ok: unknown, code: SystemErrorCode, what: string): void {
  if (ok === 0 || ok === false || ok === INVALID_HANDLE_VALUE)
    throw new SystemError(code, `${what} failed: ${describeWin32Error(win.GetLastError())}`);
}

function bind(koffi: Koffi): Win32 {
  const kernel32 = koffi.load('kernel32.dll');
  const advapi32 = koffi.load('advapi32.dll');
  const crypt32 = koffi.load('crypt32.dll');
  const shell32 = koffi.load('shell32.dll');
  const ole32 = koffi.load('ole32.dll');
  const ntdll = koffi.load('ntdll.dll');
  // Anonymous types: a named koffi type is global to the process.
  const securityAttributes = koffi.struct({
    nLength: 'uint32_t',
    lpSecurityDescriptor: 'void *',
    bInheritHandle: 'int',
  });
  const dataBlob = koffi.struct({ cbData: 'uint32_t', pbData: 'void *' });
  const H = 'intptr_t';
  // CryptProtectData and CryptUnprotectData: in, description, entropy, reserved, prompt, flags, out
  const protectArguments = [
    koffi.pointer(dataBlob),
    'void *',
    'void *',
    'void *',
    'void *',
    'uint32_t',
    koffi.out(koffi.pointer(dataBlob)),
  ] as unknown as string[];
  const out = (type: string) => koffi.out(koffi.pointer(type));
  const inout = (type: string) => koffi.inout(koffi.pointer(type));
  const k = (name: string, result: string, args: unknown[]): Native =>
    kernel32.func('__stdcall', name, result, args as string[]);
  const a = (name: string, result: string, args: unknown[]): Native =>
    advapi32.func('__stdcall', name, result, args as string[]);
  let wineVersion: (() => string) | null = null;
  try {
    wineVersion = ntdll.func('const char *wine_get_version()');
  } catch {
    wineVersion = null;
  }
  const wcslen: Native = ntdll.func('size_t wcslen(void *)');
  return {
    koffi,
    GetLastError: k('GetLastError', 'uint32_t', []),
    CloseHandle: k('CloseHandle', 'int', [H]),
    LocalFree: k('LocalFree', 'void *', ['void *']),
    CreateEventW: k('CreateEventW', H, ['void *', 'int', 'int', 'void *']),
    SetEvent: k('SetEvent', 'int', [H]),
    ResetEvent: k('ResetEvent', 'int', [H]),
    CreateNamedPipeW: k('CreateNamedPipeW', H, [
      'str16',
      'uint32_t',
      'uint32_t',
      'uint32_t',
      'uint32_t',
      'uint32_t',
      'uint32_t',
      koffi.pointer(securityAttributes),
    ]),
    ConnectNamedPipe: k('ConnectNamedPipe', 'int', [H, 'void *']),
    DisconnectNamedPipe: k('DisconnectNamedPipe', 'int', [H]),
    GetNamedPipeClientProcessId: k('GetNamedPipeClientProcessId', 'int', [H, out('uint32_t')]),
    GetNamedPipeServerProcessId: k('GetNamedPipeServerProcessId', 'int', [H, out('uint32_t')]),
    ReadFile: k('ReadFile', 'int', [H, 'void *', 'uint32_t', 'void *', 'void *']),
    WriteFile: k('WriteFile', 'int', [H, 'void *', 'uint32_t', 'void *', 'void *']),
    GetOverlappedResult: k('GetOverlappedResult', 'int', [H, 'void *', out('uint32_t'), 'int']),
    CancelIoEx: k('CancelIoEx', 'int', [H, 'void *']),
    WaitForMultipleObjects: k('WaitForMultipleObjects', 'uint32_t', [
      'uint32_t',
      'void *',
      'int',
      'uint32_t',
    ]) as Native & {
      async: Native;
    },
    CreateFileW: k('CreateFileW', H, ['str16', 'uint32_t', 'uint32_t', 'void *', 'uint32_t', 'uint32_t', H]),
    LockFileEx: k('LockFileEx', 'int', [H, 'uint32_t', 'uint32_t', 'uint32_t', 'uint32_t', 'void *']),
    FlushFileBuffers: k('FlushFileBuffers', 'int', [H]),
    MoveFileExW: k('MoveFileExW', 'int', ['str16', 'str16', 'uint32_t']),
    WaitNamedPipeW: k('WaitNamedPipeW', 'int', ['str16', 'uint32_t']),
    CreateDirectoryW: k('CreateDirectoryW', 'int', ['str16', koffi.pointer(securityAttributes)]),
    GetTickCount64: k('GetTickCount64', 'uint64_t', []),
    GetCurrentProcess: k('GetCurrentProcess', H, []),
    GetCurrentThread: k('GetCurrentThread', H, []),
    ConvertStringSecurityDescriptorToSecurityDescriptorW: a(
      'ConvertStringSecurityDescriptorToSecurityDescriptorW',
      'int',
      ['str16', 'uint32_t', out('void *'), 'void *'],
    ),
    ConvertSecurityDescriptorToStringSecurityDescriptorW: a(
      'ConvertSecurityDescriptorToStringSecurityDescriptorW',
      'int',
      ['void *', 'uint32_t', 'uint32_t', out('void *'), 'void *'],
    ),
    GetNamedSecurityInfoW: a('GetNamedSecurityInfoW', 'uint32_t', [
      'str16',
      'int',
      'uint32_t',
      'void *',
      'void *',
      'void *',
      'void *',
      out('void *'),
    ]),
    ImpersonateNamedPipeClient: a('ImpersonateNamedPipeClient', 'int', [H]),
    RevertToSelf: a('RevertToSelf', 'int', []),
    OpenThreadToken: a('OpenThreadToken', 'int', [H, 'uint32_t', 'int', out(H)]),
    OpenProcessToken: a('OpenProcessToken', 'int', [H, 'uint32_t', out(H)]),
    GetTokenInformation: a('GetTokenInformation', 'int', [H, 'int', 'void *', 'uint32_t', out('uint32_t')]),
    CheckTokenMembership: a('CheckTokenMembership', 'int', [H, 'void *', out('int')]),
    ConvertSidToStringSidW: a('ConvertSidToStringSidW', 'int', ['void *', out('void *')]),
    ConvertStringSidToSidW: a('ConvertStringSidToSidW', 'int', ['str16', out('void *')]),
    GetLengthSid: a('GetLengthSid', 'uint32_t', ['void *']),
    LookupAccountNameW: a('LookupAccountNameW', 'int', [
      'str16',
      'str16',
      'void *',
      inout('uint32_t'),
      'void *',
      inout('uint32_t'),
      out('int'),
    ]),
    LookupAccountSidW: a('LookupAccountSidW', 'int', [
      'str16',
      'void *',
      'void *',
      inout('uint32_t'),
      'void *',
      inout('uint32_t'),
      out('int'),
    ]),
    LogonUserW: a('LogonUserW', 'int', ['str16', 'str16', 'void *', 'uint32_t', 'uint32_t', out(H)]),
    RegGetValueW: a('RegGetValueW', 'uint32_t', [
      H,
      'str16',
      'str16',
      'uint32_t',
      'void *',
      out('uint32_t'),
      inout('uint32_t'),
    ]),
    CryptProtectData: crypt32.func('__stdcall', 'CryptProtectData', 'int', protectArguments),
    CryptUnprotectData: crypt32.func('__stdcall', 'CryptUnprotectData', 'int', protectArguments),
    SHGetKnownFolderPath: shell32.func('__stdcall', 'SHGetKnownFolderPath', 'int32_t', [
      'void *',
      'uint32_t',
      'void *',
      out('void *'),
    ]),
    CoTaskMemFree: ole32.func('__stdcall', 'CoTaskMemFree', 'void', ['void *']),
    wineVersion,
    readWide(pointer) {
      const units = Number(wcslen(pointer));
      return Buffer.from(koffi.view(pointer, units * 2)).toString('utf16le');
    },
  };
}
