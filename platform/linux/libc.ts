/**
 * The C library through koffi, loaded once and only when first needed, so a process that never
 * asks for a peer's credentials or a user record does not load the FFI at all.
 * Declarations are for Linux (glibc, LP64); callers check the platform first.
 */
import { createRequire } from 'node:module';
import { getSystemErrorName } from 'node:util';
import type KoffiModule from 'koffi';
import type { TypeObject } from 'koffi';
import { SystemError, type SystemErrorCode } from '../system-error.js';

export type Koffi = typeof KoffiModule;
// biome-ignore lint/suspicious/noExplicitAny: koffi functions take and return whatever their C declaration says; the typed wrappers below pin each one down
type Native = (...args: any[]) => any;
type ArgumentType = string | TypeObject | ReturnType<Koffi['out']>;

/** struct ucred (socket(7)): pid_t pid; uid_t uid; gid_t gid. */
export interface Ucred {
  pid: number;
  uid: number;
  gid: number;
}

/** struct passwd (getpwnam(3)); the strings point into the caller's buffer. */
export interface Passwd {
  pw_name: string | null;
  pw_passwd: string | null;
  pw_uid: number;
  pw_gid: number;
  pw_gecos: string | null;
  pw_dir: string | null;
  pw_shell: string | null;
}

/** Out-parameters are one-element arrays (koffi's reference semantics). */
export interface Libc {
  readonly koffi: Koffi;
  getsockoptUcred(fd: number, level: number, name: number, value: Partial<Ucred>, length: [number]): number;
  getsockoptInt(fd: number, level: number, name: number, value: [number], length: [number]): number;
  getpwnam_r(name: string, pwd: Partial<Passwd>, buf: Buffer, buflen: number, result: [unknown]): number;
  getpwuid_r(uid: number, pwd: Partial<Passwd>, buf: Buffer, buflen: number, result: [unknown]): number;
  sysconf(name: number): number;
  flock(fd: number, operation: number): number;
  malloc(size: number): bigint | null;
  calloc(count: number, size: number): bigint | null;
  free(pointer: bigint | null): void;
  /** errno of the last call made through koffi on this thread. */
  errno(): number;
}

let koffiModule: Koffi | undefined;
let cached: Libc | undefined;

export function loadKoffi(): Koffi {
  koffiModule ??= createRequire(import.meta.url)('koffi') as Koffi;
  return koffiModule;
}

/** The bound C library; a load failure becomes a SystemError with the caller's code. */
export function useLibc(code: SystemErrorCode): Libc {
  if (cached) return cached;
  try {
    cached = bind(loadKoffi());
  } catch (error) {
    throw new SystemError(code, `cannot load the C library through koffi: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return cached;
}

/** "EAGAIN (11)", for messages. */
export function describeErrno(errno: number): string {
  try {
    return `${getSystemErrorName(-errno)} (${errno})`;
  } catch {
    return `errno ${errno}`;
  }
}

function bind(koffi: Koffi): Libc {
  const lib = koffi.load('libc.so.6');
  // Anonymous types: a named koffi type is global to the process and could clash with another
  // module's declaration of the same name.
  const ucred = koffi.struct({ pid: 'int32_t', uid: 'uint32_t', gid: 'uint32_t' });
  const passwd = koffi.struct({
    pw_name: 'char *',
    pw_passwd: 'char *',
    pw_uid: 'uint32_t',
    pw_gid: 'uint32_t',
    pw_gecos: 'char *',
    pw_dir: 'char *',
    pw_shell: 'char *',
  });
  const fn = (name: string, result: string, args: ArgumentType[]): Native => lib.func(name, result, args);
  const socklen = koffi.inout(koffi.pointer('uint32_t'));
  // getsockopt(fd, level, name, void *value, socklen_t *length), declared once per type of value read.
  const getsockopt = (value: string | TypeObject) =>
    fn('getsockopt', 'int', ['int', 'int', 'int', koffi.out(koffi.pointer(value)), socklen]);
  // getpwnam_r and getpwuid_r: the key, then struct passwd *pwd, char *buf, size_t buflen, struct passwd **result.
  const getpwentry = (name: string, key: string) =>
    fn(name, 'int', [key, koffi.out(koffi.pointer(passwd)), 'uint8_t *', 'size_t', koffi.out(koffi.pointer('void *'))]);
  return {
    koffi,
    getsockoptUcred: getsockopt(ucred),
    getsockoptInt: getsockopt('int'),
    getpwnam_r: getpwentry('getpwnam_r', 'str'),
    getpwuid_r: getpwentry('getpwuid_r', 'uint32_t'),
    sysconf: fn('sysconf', 'long', ['int']),
    flock: fn('flock', 'int', ['int', 'int']),
    malloc: fn('malloc', 'void *', ['size_t']),
    calloc: fn('calloc', 'void *', ['size_t', 'size_t']),
    free: fn('free', 'void', ['void *']),
    errno: () => koffi.errno(),
  };
}
