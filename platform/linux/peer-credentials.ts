/**
 * Who is on the other end of a Unix socket, as the kernel recorded it at connect() time
 * (SO_PEERCRED, socket(7)). docs/ipc.md "Peer credentials": a connection whose credentials
 * cannot be read is refused.
 */
import type net from 'node:net';
import { SystemError, requireLinux } from '../system-error.js';
import { describeErrno, useLibc } from './libc.js';

export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

// Linux values (asm-generic/socket.h, bits/socket.h).
const SOL_SOCKET = 1;
const SO_PEERCRED = 17;
const SO_DOMAIN = 39;
const AF_UNIX = 1;
const UCRED_SIZE = 12;
const INT_SIZE = 4;

const CODE = 'peer-credentials-unavailable';

export function getPeerCredentials(socket: net.Socket): PeerCredentials {
  requireLinux(CODE, 'Reading peer credentials');
  const fd = socketFd(socket);
  const libc = useLibc(CODE);

  // On a TCP socket SO_PEERCRED still "succeeds" with the overflow uid (nobody): refuse
  // anything that is not a Unix socket rather than trust that answer.
  const domain: [number] = [-1];
  const domainLength: [number] = [INT_SIZE];
  if (libc.getsockoptInt(fd, SOL_SOCKET, SO_DOMAIN, domain, domainLength) !== 0) {
    throw new SystemError(CODE, `getsockopt(SO_DOMAIN) failed: ${describeErrno(libc.errno())}`);
  }
  if (domain[0] !== AF_UNIX) {
    throw new SystemError(CODE, `peer credentials need a Unix socket; this socket's address family is ${domain[0]}`);
  }

  const credentials: Partial<PeerCredentials> = {};
  const length: [number] = [UCRED_SIZE];
  if (libc.getsockoptUcred(fd, SOL_SOCKET, SO_PEERCRED, credentials, length) !== 0) {
    throw new SystemError(CODE, `getsockopt(SO_PEERCRED) failed: ${describeErrno(libc.errno())}`);
  }
  const { pid, uid, gid } = credentials;
  if (length[0] !== UCRED_SIZE || pid === undefined || uid === undefined || gid === undefined) {
    throw new SystemError(CODE, `getsockopt(SO_PEERCRED) returned ${length[0]} bytes, expected ${UCRED_SIZE}`);
  }
  return { pid, uid, gid };
}

function socketFd(socket: net.Socket): number {
  // Node does not expose a socket's descriptor; libuv's pipe handle does (Unix only).
  const handle = (socket as unknown as { _handle?: { fd?: unknown } | null })._handle;
  const fd = handle?.fd;
  if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0) {
    throw new SystemError(CODE, 'the socket has no file descriptor (closed, or not a Unix socket)');
  }
  return fd;
}
