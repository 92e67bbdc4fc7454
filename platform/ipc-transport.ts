/**
 * The local IPC seam (docs/ipc.md "Transport", docs/architecture.md "Platform seams"): where the
 * agent listens, how a client reaches it, and who is on the other end of a connection as the OS
 * vouches for it. Linux: a Unix socket, SO_PEERCRED and the real uid from /proc
 * (platform/linux/ipc-transport.ts). A named pipe with the client token's SID fits the same
 * interface: an account is then a SID string instead of a uid.
 */
import type { Duplex } from 'node:stream';
import { currentPlatform } from './platform.js';

/** A local account as the OS names it: a uid on Linux, a SID string on Windows. Compared with ===. */
export type AccountId = number | string;

/** Who is on the other end of a connection to the agent (docs/ipc.md "Peer credentials"). */
export interface Caller {
  readonly pid: number;
  /** The account whose authority the caller has (the effective uid): what it may ask. */
  readonly uid: AccountId;
  /** The account it counts against (the real uid of its process; docs/ipc.md "Limits per account"). */
  readonly account: AccountId;
  /** May act for any user: root or the agent's own account (SYSTEM or an administrator). */
  readonly admin: boolean;
  /** `account` is root or the agent's own: a connection pool of its own, no rate limit. */
  readonly privileged: boolean;
}

/** The process that listens on the other end of a client's connection. */
export interface Listener {
  readonly pid: number;
  readonly uid: AccountId;
}

export interface LocalServer {
  readonly endpoint: string;
  /** Stops listening; connections already accepted stay open (their owner closes them). */
  close(): Promise<void>;
}

export interface LocalServerEvents {
  connection(stream: Duplex): void;
  error(error: Error): void;
}

export interface LocalTransport {
  /** Where the agent listens unless configured otherwise (docs/configuration.md `socket`). */
  readonly defaultEndpoint: string;
  /**
   * Makes `endpoint` ready (its directory, a stale endpoint from a crashed agent, refusing to start
   * over a live one) and listens; resolves once connections are accepted.
   */
  listen(endpoint: string, events: LocalServerEvents): Promise<LocalServer>;
  /** A client's connection; it emits `connect`, or `error` with an errno-style code. */
  connect(endpoint: string): Duplex;
  /** The caller of an accepted connection; throws SystemError when the OS cannot say (refuse it). */
  identifyCaller(stream: Duplex): Caller;
  /** Who listens on a connected client stream; throws SystemError when the OS cannot say. */
  identifyServer(stream: Duplex): Listener;
}

/** The current OS's transport (platform.ts). */
export function localTransport(): LocalTransport {
  return currentPlatform().ipc;
}
