/**
 * The seams between Latchkey and the operating system (docs/architecture.md "Platform seams"):
 * every OS-specific call goes through one of these interfaces, and each OS has one file per seam
 * under platform/<os>/. Nothing outside platform/ imports platform/<os>/ (test/architecture
 * checks it); the seam modules beside this file (ipc-transport.ts, users.ts, file-lock.ts,
 * durable-file.ts, secure-path.ts, clock.ts, password-check.ts, keystore/keystore.ts) pick the
 * implementation here, at call time.
 *
 * Linux (platform/linux/) and Windows (platform/windows/, docs/windows.md §11) have theirs; on
 * any other OS every seam fails closed with a SystemError that names it.
 */
import type { ClockReading } from './clock.js';
import type { ExclusiveLock } from './file-lock.js';
import type { LocalTransport } from './ipc-transport.js';
import type { KeystoreBackends } from './keystore/keystore.js';
import type { PasswordCheckOptions, PasswordCheckResult } from './password-check.js';
import type { FileAccess } from './secure-path.js';
import { SystemError, type SystemErrorCode } from './system-error.js';
import type { UserRecord } from './users.js';
import net from 'node:net';
import * as linux from './linux/linux-platform.js';
import * as windows from './windows/windows-platform.js';

export interface Platform {
  /** process.platform of the OS this implements. */
  readonly name: NodeJS.Platform;
  /** The local IPC transport and the caller's identity (Unix socket + SO_PEERCRED; a named pipe + the client's token). */
  readonly ipc: LocalTransport;
  /** Local accounts by name and by id (NSS; LookupAccountName). null: no such account; a failed lookup throws. */
  readonly users: {
    byName(name: string): UserRecord | null;
    byId(id: number | string): UserRecord | null;
    /** The account this process runs as. */
    current(): number | string;
    /** Whether this process runs as the administrator (root; SYSTEM or an elevated administrator). */
    isAdministrator(): boolean;
  };
  /** One process per state directory (flock; LockFileEx). */
  readonly locks: { acquireExclusive(file: string): Promise<ExclusiveLock> };
  /** Durable replacement of a file, and making a directory's entries durable (fsync; MoveFileEx write-through). */
  readonly durable: {
    writeFile(file: string, data: Uint8Array, mode: number): Promise<void>;
    syncDirectory(directory: string): Promise<void>;
  };
  /** Who may own and read the files that grant access, and making directories that meet the rule (mode bits; ACLs). */
  readonly access: FileAccess;
  /** The clocks anti-hammering delays are measured on: a boot id and the time since boot that counts suspend (CLOCK_BOOTTIME; an unbiased tick count). */
  readonly bootClock: { now(): ClockReading };
  /** The keystore backends (docs/keystore.md): sealed files for a system service, and the OS keychain. */
  readonly keystores: KeystoreBackends;
  /** A local account's password, checked by the OS before a self-enrollment (PAM in a child process; LogonUser). */
  readonly passwords: { check(options: PasswordCheckOptions): Promise<PasswordCheckResult> };
  /** Where the agent's files are unless configured otherwise (/etc/latchkey, /var/lib/latchkey; %ProgramData%\\Latchkey). */
  readonly defaults: { readonly configFile: string; readonly stateDir: string };
}

/** What each OS folder's <os>-platform.ts exports: its seam files' functions, under the same names. */
interface OsSeams {
  readonly name: NodeJS.Platform;
  /** The local transport but for connecting, which is the same on every OS (osPlatform). */
  readonly transport: Omit<LocalTransport, 'connect'>;
  readonly users: Platform['users'];
  readonly acquireExclusiveLock: Platform['locks']['acquireExclusive'];
  readonly writeFileDurably: Platform['durable']['writeFile'];
  readonly fsyncDirectory: Platform['durable']['syncDirectory'];
  readonly checkStats: FileAccess['check'];
  readonly checkDirectoryChain: FileAccess['checkDirectoryChain'];
  readonly checkParentDirectory: FileAccess['checkParentDirectory'];
  readonly makeDirectories: FileAccess['makeDirectories'];
  readonly trustedOwners: FileAccess['trustedOwners'];
  readonly readBootClock: Platform['bootClock']['now'];
  readonly keystores: KeystoreBackends;
  readonly checkPassword: Platform['passwords']['check'];
  readonly defaults: Platform['defaults'];
}

/** One OS folder's seams as a Platform, made when first asked for, so no import order can see one uninitialised. */
function osPlatform(os: OsSeams): Platform {
  return {
    name: os.name,
    // A client reaches a Unix socket's path and a named pipe's name alike through Node's net.
    ipc: { ...os.transport, connect: (endpoint) => net.connect(endpoint) },
    users: os.users,
    locks: { acquireExclusive: os.acquireExclusiveLock },
    durable: { writeFile: os.writeFileDurably, syncDirectory: os.fsyncDirectory },
    access: {
      check: os.checkStats,
      checkDirectoryChain: os.checkDirectoryChain,
      checkParentDirectory: os.checkParentDirectory,
      makeDirectories: os.makeDirectories,
      trustedOwners: os.trustedOwners,
    },
    bootClock: { now: os.readBootClock },
    keystores: os.keystores,
    passwords: { check: os.checkPassword },
    get defaults() {
      return os.defaults;
    },
  };
}

let chosen: Platform | undefined;

/** Whether this OS has its implementations (until then every seam refuses: unsupportedPlatform). */
export function platformImplemented(name: NodeJS.Platform = process.platform): boolean {
  return name === 'linux' || name === 'win32';
}

/** The implementation for the OS this process runs on. */
export function currentPlatform(): Platform {
  chosen ??=
    process.platform === 'linux'
      ? osPlatform(linux)
      : process.platform === 'win32'
        ? osPlatform(windows)
        : unsupportedPlatform(process.platform);
  return chosen;
}

/** Every seam refuses, naming the OS: a feature that is not there fails closed, never open. */
export function unsupportedPlatform(name: NodeJS.Platform): Platform {
  const refuse = (code: SystemErrorCode, what: string) => (): never => {
    throw new SystemError(code, `${what} is not implemented on ${name} yet (Latchkey runs on Linux and Windows)`);
  };
  return {
    name,
    ipc: {
      defaultEndpoint: '',
      listen: refuse('peer-credentials-unavailable', "the agent's local socket"),
      connect: refuse('peer-credentials-unavailable', "the agent's local socket"),
      identifyCaller: refuse('peer-credentials-unavailable', "reading a caller's identity"),
      identifyServer: refuse('peer-credentials-unavailable', "reading a server's identity"),
    },
    users: {
      byName: refuse('user-lookup-failed', 'looking up users'),
      byId: refuse('user-lookup-failed', 'looking up users'),
      current: refuse('user-lookup-failed', 'looking up users'),
      isAdministrator: () => false,
    },
    locks: { acquireExclusive: refuse('lock-unavailable', 'locking the state directory') },
    durable: {
      writeFile: refuse('files-unavailable', 'writing files durably'),
      syncDirectory: refuse('files-unavailable', 'writing files durably'),
    },
    access: {
      check: refuse('files-unavailable', 'checking who may use a file'),
      checkDirectoryChain: refuse('files-unavailable', 'checking who may use a directory'),
      checkParentDirectory: refuse('files-unavailable', 'checking who may use a directory'),
      makeDirectories: refuse('files-unavailable', 'making directories'),
      trustedOwners: () => [],
    },
    bootClock: { now: refuse('boot-clock-unavailable', 'reading the boot clock') },
    keystores: {
      file: refuse('files-unavailable', 'the file keystore'),
      os: refuse('files-unavailable', 'the OS keychain'),
    },
    passwords: {
      check: async (options) => ({
        ok: false,
        code: 'password-check-unavailable',
        message: `checking passwords is not implemented on ${name} yet (${options.service})`,
      }),
    },
    // Unused: the agent refuses to start first (cli/commands/agent.ts); the CLI only prints them.
    defaults: { configFile: '/etc/latchkey/agent.json', stateDir: '/var/lib/latchkey' },
  };
}
