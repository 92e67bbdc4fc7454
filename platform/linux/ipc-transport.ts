/**
 * The local IPC seam on Linux (platform/ipc-transport.ts, docs/ipc.md "Transport"): a Unix
 * socket in a directory only root can change, the caller's effective uid from SO_PEERCRED
 * (what it may ask), and its real uid from /proc (whose limits it counts against).
 */
import { promises as fs, type Stats } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import type { Caller, Listener, LocalServer, LocalServerEvents, LocalTransport } from '../ipc-transport.js';
import { getPeerCredentials } from './peer-credentials.js';
import { realUidOf } from './process-identity.js';
import { checkDirectoryChain, makeDirectories } from './secure-path.js';

export const DEFAULT_SOCKET = '/run/latchkey/agent.sock';
/** Screen lockers run as the user, so the directory is 0755 whatever the umask, and the socket 0666. */
const SOCKET_DIRECTORY_MODE = 0o755;
const SOCKET_MODE = 0o666;

/**
 * Creates the socket's directory, refuses a directory chain someone else could swap (docs/ipc.md
 * "Transport"), refuses to start over a live agent, and removes a stale socket (never any other
 * kind of file).
 */
async function prepareSocketPath(socketPath: string): Promise<void> {
  const directory = path.dirname(socketPath);
  await makeDirectories(directory, SOCKET_DIRECTORY_MODE);
  await checkDirectoryChain(directory);
  let stats: Stats;
  try {
    stats = await fs.lstat(socketPath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (!stats.isSocket()) throw new Error(`${socketPath} exists and is not a socket; refusing to replace it`);
  const live = await new Promise<boolean>((resolve) => {
    const probe = net.connect(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (live) throw new Error(`another agent is already answering on ${socketPath}`);
  await fs.unlink(socketPath);
}

async function listen(socketPath: string, events: LocalServerEvents): Promise<LocalServer> {
  await prepareSocketPath(socketPath);
  const server = net.createServer({ allowHalfOpen: false, pauseOnConnect: false });
  server.on('connection', (socket) => events.connection(socket));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  await fs.chmod(socketPath, SOCKET_MODE);
  server.on('error', (error) => events.error(error));
  return {
    endpoint: socketPath,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Root, or the uid the agent itself runs as (a per-user agent's owner administers it). */
function isAgentAdmin(uid: number): boolean {
  return uid === 0 || uid === (process.getuid?.() ?? 0);
}

function identifyCaller(stream: Duplex): Caller {
  const { pid, uid } = getPeerCredentials(stream as net.Socket);
  // SO_PEERCRED gives the effective uid; a setuid `su` started by a user counts against that user.
  const account = realUidOf(pid) ?? uid;
  return { pid, uid, account, admin: isAgentAdmin(uid), privileged: isAgentAdmin(account) };
}

function identifyServer(stream: Duplex): Listener {
  const { pid, uid } = getPeerCredentials(stream as net.Socket);
  return { pid, uid };
}

/** Without `connect`: a client connects alike on every OS (platform.ts). */
export const unixSocketTransport: Omit<LocalTransport, 'connect'> = {
  defaultEndpoint: DEFAULT_SOCKET,
  listen,
  identifyCaller,
  identifyServer,
};
