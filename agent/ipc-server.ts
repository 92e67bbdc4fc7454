/**
 * The agent's IPC server (docs/ipc.md) over the platform's local transport (Unix socket and
 * SO_PEERCRED on Linux): who may connect, how many connections and requests each account may
 * have (ipc-limits.ts); each accepted connection is served by ipc-connection.ts.
 */
import type { Duplex } from 'node:stream';
import { encodeReply, type Reply, type Request } from '../protocol/ipc-messages.js';
import type { Peer } from './agent-service.js';
import { serveConnection, type ConnectionFacts, type ConnectionServices } from './ipc-connection.js';
import { ConnectionBudget, DEFAULT_IPC_LIMITS, RequestRateLimiter, type IpcLimits } from './ipc-limits.js';
import type { TrackedConnection } from './ipc-limits.js';
import { localTransport, type LocalServer, type LocalTransport } from '../platform/ipc-transport.js';
import type { Logger } from '../platform/log.js';

export const FRAME_READ_TIMEOUT_MS = 2_000;
export const IDLE_TIMEOUT_MS = 30_000;
/** Whatever the accounts' limits, never more sockets than this at once (descriptors are finite). */
const HARD_SOCKET_CAP = 1024;
const RATE_LOG_INTERVAL_MS = 60_000;

export interface IpcServerOptions {
  readonly socketPath: string;
  readonly handle: (request: Request, peer: Peer, connection: ConnectionFacts) => Promise<Reply>;
  /** The platform's local transport (platform/ipc-transport.ts) unless a test gives another. */
  readonly transport?: LocalTransport;
  readonly log: Logger;
  readonly frameReadTimeoutMs?: number;
  readonly idleTimeoutMs?: number;
  /** Connection and request limits per account (agent/ipc-limits.ts); tests shorten them. */
  readonly limits?: Partial<IpcLimits>;
}

export interface IpcServer {
  readonly socketPath: string;
  close(): Promise<void>;
}

export async function startIpcServer(options: IpcServerOptions): Promise<IpcServer> {
  const frameTimeout = options.frameReadTimeoutMs ?? FRAME_READ_TIMEOUT_MS;
  const idleTimeout = options.idleTimeoutMs ?? IDLE_TIMEOUT_MS;
  const limits: IpcLimits = { ...DEFAULT_IPC_LIMITS, ...options.limits };
  const budget = new ConnectionBudget(limits);
  const rateLimiter = new RequestRateLimiter(limits);
  const transport = options.transport ?? localTransport();
  const sockets = new Set<Duplex>();
  const { log } = options;
  /** Refusals for the rate limit, per account, logged once a minute rather than per request. */
  const rateLimited = new Map<Peer['account'], number>();
  const logRateLimited = () => {
    for (const [account, refused] of rateLimited)
      log.warn('ipc.rate-limited', { account, refused, perSecond: limits.requestsPerSecond });
    rateLimited.clear();
  };
  const rateLog = setInterval(() => {
    logRateLimited();
    rateLimiter.sweep(performance.now());
  }, RATE_LOG_INTERVAL_MS).unref();

  /** One token of the account's budget; a refusal is counted for the log, with its reply and when the next token comes. */
  function takeToken(peer: Peer, requestId: number): { reply: Reply; waitMs: number } | null {
    if (peer.privileged) return null;
    const taken = rateLimiter.take(peer.account, performance.now());
    if (taken.ok) return null;
    rateLimited.set(peer.account, (rateLimited.get(peer.account) ?? 0) + 1);
    const reply: Reply = {
      requestId,
      status: 'error',
      reason: 'rate-limited',
      retryAfter: taken.retryAfterSeconds,
      message: `too many requests from uid ${peer.account}; try again in ${taken.retryAfterSeconds} s`,
    };
    return { reply, waitMs: taken.waitMs };
  }

  const services: ConnectionServices = {
    log,
    frameTimeoutMs: frameTimeout,
    idleTimeoutMs: idleTimeout,
    handle: options.handle,
    takeToken,
    sendAndClose,
  };

  function accept(socket: Duplex): void {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    if (sockets.size > HARD_SOCKET_CAP) {
      sendAndClose(socket, {
        requestId: 0,
        status: 'error',
        reason: 'too-many-connections',
        message: 'the agent has too many open connections; try again',
      });
      return;
    }
    let peer: Peer;
    try {
      peer = transport.identifyCaller(socket);
    } catch (error) {
      log.warn('ipc.peer-credentials', { error: error as Error });
      sendAndClose(socket, {
        requestId: 0,
        status: 'error',
        reason: 'permission-denied',
        message: 'the agent could not identify the connecting process',
      });
      return;
    }
    const limited = takeToken(peer, 0);
    if (limited) {
      sendAndClose(socket, limited.reply);
      return;
    }
    const tracked: TrackedConnection = {
      account: peer.account,
      privileged: peer.privileged,
      busy: false,
      lastActiveMs: performance.now(),
      evict: () => socket.destroy(),
    };
    const admission = budget.admit(tracked);
    if (!admission.ok) {
      log.debug('ipc.refused', { reason: 'too-many-connections', peerUid: peer.uid, account: peer.account });
      sendAndClose(socket, {
        requestId: 0,
        status: 'error',
        reason: 'too-many-connections',
        message: `uid ${peer.account} has too many connections open to the agent, all busy; try again`,
      });
      return;
    }
    for (const victim of admission.evicted) {
      log.debug('ipc.evicted', { account: victim.account, for: peer.account });
      victim.evict();
    }
    socket.on('close', () => budget.release(tracked));
    log.debug('ipc.connection', { peerUid: peer.uid, peerPid: peer.pid, account: peer.account });
    serveConnection(socket, peer, tracked, services);
  }

  function sendAndClose(socket: Duplex, reply: Reply): void {
    socket.end(encodeReply(reply));
    (socket as Duplex & { destroySoon?: () => void }).destroySoon?.();
    setTimeout(() => socket.destroy(), 1_000).unref();
  }

  let server: LocalServer;
  try {
    server = await transport.listen(options.socketPath, {
      connection: accept,
      error: (error) => log.error('ipc.server-error', { error }),
    });
  } catch (error) {
    clearInterval(rateLog);
    throw error;
  }
  const listening = server;
  return {
    socketPath: listening.endpoint,
    async close() {
      clearInterval(rateLog);
      logRateLimited();
      const closed = listening.close();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
