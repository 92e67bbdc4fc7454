/**
 * The agent's IPC server (docs/ipc.md) over the platform's local transport: frames in, replies out, strictly in turn.
 * Every malformed, oversized, slow or out-of-order input gets an error reply or a closed
 * connection; nothing here decides anything about PINs.
 */
import type { Duplex } from 'node:stream';
import { wipe } from '../protocol/bytes.js';
import { ProtocolError } from '../protocol/errors.js';
import { FRAME_HEADER_BYTES, FrameKind, MAX_REQUEST_BODY, decodeFrameHeader } from '../protocol/ipc-frame.js';
import { decodeRequestBody, encodeReply, type Reason, type Reply, type Request } from '../protocol/ipc-messages.js';
import type { Peer } from './agent-service.js';
import { ConnectionBudget, DEFAULT_IPC_LIMITS, RequestRateLimiter, type IpcLimits, type TrackedConnection } from './ipc-limits.js';
import { localTransport, type LocalTransport } from '../platform/ipc-transport.js';
import type { Logger } from '../platform/log.js';

export const FRAME_READ_TIMEOUT_MS = 2_000;
export const IDLE_TIMEOUT_MS = 30_000;
/** Whatever the accounts' limits, never more sockets than this at once (descriptors are finite). */
const HARD_SOCKET_CAP = 1024;
const RATE_LOG_INTERVAL_MS = 60_000;
/** What a connection bound by a lock screen's status may still ask (docs/ipc.md "Lock-screen connections"). */
const LOCK_SCREEN_OPS: ReadonlySet<Request['op']> = new Set(['status', 'verify', 'online-auth', 'ble-auth']);

export interface IpcServerOptions {
  readonly socketPath: string;
  readonly handle: (request: Request, peer: Peer) => Promise<Reply>;
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

const PROTOCOL_REASONS: Record<ProtocolError['code'], Reason> = {
  'bad-frame': 'bad-frame', 'frame-too-large': 'frame-too-large', 'unsupported-version': 'unsupported-version', 'unknown-op': 'unknown-op',
  'missing-field': 'missing-field', 'bad-field': 'bad-field', 'bad-pin-format': 'bad-field', 'bad-seed': 'bad-field', 'bad-counter': 'bad-field',
  'bad-uri': 'bad-field', 'bad-base32': 'bad-field',
};

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
    for (const [account, refused] of rateLimited) log.warn('ipc.rate-limited', { account, refused, perSecond: limits.requestsPerSecond });
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
    const reply: Reply = { requestId, status: 'error', reason: 'rate-limited', retryAfter: taken.retryAfterSeconds, message: `too many requests from uid ${peer.account}; try again in ${taken.retryAfterSeconds} s` };
    return { reply, waitMs: taken.waitMs };
  }

  function accept(socket: Duplex): void {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    if (sockets.size > HARD_SOCKET_CAP) {
      sendAndClose(socket, { requestId: 0, status: 'error', reason: 'too-many-connections', message: 'the agent has too many open connections; try again' });
      return;
    }
    let peer: Peer;
    try {
      peer = transport.identifyCaller(socket);
    } catch (error) {
      log.warn('ipc.peer-credentials', { error: error as Error });
      sendAndClose(socket, { requestId: 0, status: 'error', reason: 'permission-denied', message: 'the agent could not identify the connecting process' });
      return;
    }
    const limited = takeToken(peer, 0);
    if (limited) {
      sendAndClose(socket, limited.reply);
      return;
    }
    const tracked: TrackedConnection = { account: peer.account, privileged: peer.privileged, busy: false, lastActiveMs: performance.now(), evict: () => socket.destroy() };
    const admission = budget.admit(tracked);
    if (!admission.ok) {
      log.debug('ipc.refused', { reason: 'too-many-connections', peerUid: peer.uid, account: peer.account });
      sendAndClose(socket, { requestId: 0, status: 'error', reason: 'too-many-connections', message: `uid ${peer.account} has too many connections open to the agent, all busy; try again` });
      return;
    }
    for (const victim of admission.evicted) {
      log.debug('ipc.evicted', { account: victim.account, for: peer.account });
      victim.evict();
    }
    socket.on('close', () => budget.release(tracked));
    log.debug('ipc.connection', { peerUid: peer.uid, peerPid: peer.pid, account: peer.account });
    serveConnection(socket, peer, tracked);
  }

  function sendAndClose(socket: Duplex, reply: Reply): void {
    socket.end(encodeReply(reply));
    (socket as Duplex & { destroySoon?: () => void }).destroySoon?.();
    setTimeout(() => socket.destroy(), 1_000).unref();
  }

  function serveConnection(socket: Duplex, peer: Peer, tracked: TrackedConnection): void {
    let buffer: Buffer = Buffer.alloc(0);
    let bodyLength: number | null = null;
    let busy = false;
    let closed = false;
    /** Set by a status with the lock-screen flag: from then on, only that user's lock-screen requests. */
    let boundUser: string | null = null;
    let frameTimer: NodeJS.Timeout | null = null;
    const idleTimer = setTimeout(() => socket.destroy(), idleTimeout);
    const refreshIdle = () => idleTimer.refresh();
    socket.on('close', () => {
      closed = true;
      clearTimeout(idleTimer);
      if (frameTimer) clearTimeout(frameTimer);
      buffer.fill(0);
    });

    const fail = (reason: Reason, message: string, requestId = 0) => {
      if (closed) return;
      closed = true;
      if (frameTimer) clearTimeout(frameTimer);
      buffer.fill(0);
      log.debug('ipc.refused', { reason, peerUid: peer.uid, peerPid: peer.pid });
      sendAndClose(socket, { requestId, status: 'error', reason, message });
    };

    socket.on('data', (chunk: Buffer) => {
      if (closed) return;
      refreshIdle();
      tracked.lastActiveMs = performance.now();
      if (busy) {
        chunk.fill(0);
        fail('out-of-order', 'a new request arrived before the reply to the previous one');
        return;
      }
      // A whole frame in one chunk (the usual case) is used as it is; pieces are joined and wiped.
      if (buffer.length === 0) buffer = chunk;
      else {
        const joined = Buffer.concat([buffer, chunk]);
        buffer.fill(0);
        chunk.fill(0);
        buffer = joined;
      }
      try {
        if (bodyLength === null && buffer.length >= FRAME_HEADER_BYTES) {
          bodyLength = decodeFrameHeader(buffer.subarray(0, FRAME_HEADER_BYTES), FrameKind.request, MAX_REQUEST_BODY).bodyLength;
        }
      } catch (error) {
        const protocolError = error as ProtocolError;
        fail(PROTOCOL_REASONS[protocolError.code] ?? 'bad-frame', protocolError.message);
        return;
      }
      if (bodyLength === null || buffer.length < FRAME_HEADER_BYTES + bodyLength) {
        // Incomplete: the frame has FRAME_READ_TIMEOUT_MS from its first byte to arrive whole.
        frameTimer ??= setTimeout(() => fail('read-timeout', `the request frame was not complete within ${frameTimeout} ms`), frameTimeout);
        return;
      }
      if (buffer.length > FRAME_HEADER_BYTES + bodyLength) {
        fail('out-of-order', 'bytes arrived after a complete request, before its reply');
        return;
      }
      if (frameTimer) clearTimeout(frameTimer);
      frameTimer = null;
      const frame = buffer;
      buffer = Buffer.alloc(0);
      bodyLength = null;
      let request: Request;
      try {
        request = decodeRequestBody(frame.subarray(FRAME_HEADER_BYTES));
      } catch (error) {
        frame.fill(0);
        if (error instanceof ProtocolError) fail(PROTOCOL_REASONS[error.code] ?? 'bad-frame', error.message, error.requestId);
        else fail('bad-frame', 'the request could not be decoded');
        return;
      }
      if (boundUser !== null && (!LOCK_SCREEN_OPS.has(request.op) || !('user' in request) || request.user !== boundUser)) {
        frame.fill(0);
        fail('permission-denied', `this connection belongs to a lock screen asking about ${JSON.stringify(boundUser)}: it carries only status, verify, online-auth and ble-auth for that user`, request.requestId);
        return;
      }
      const limited = takeToken(peer, request.requestId);
      if (limited) {
        // Answered when the next token is due, not at once: a flood on this connection then runs
        // at the allowed rate instead of keeping the agent busy refusing it (a frame meanwhile is out of order).
        frame.fill(0);
        busy = true;
        setTimeout(() => {
          busy = false;
          if (!closed) socket.write(encodeReply(limited.reply));
        }, limited.waitMs);
        return;
      }
      if (request.op === 'status' && request.lockScreen) boundUser = request.user;
      busy = true;
      tracked.busy = true;
      void answer(request, frame);
    });

    async function answer(request: Request, frame: Buffer): Promise<void> {
      let reply: Reply;
      try {
        reply = await options.handle(request, peer);
      } catch (error) {
        log.error('ipc.handler-fault', { op: request.op, error: error as Error });
        reply = { requestId: request.requestId, status: 'unavailable', reason: 'internal-error', message: 'Offline PINs are unavailable right now — use your password.' };
      } finally {
        frame.fill(0); // the request's PIN or password lived in this buffer
      }
      let bytes: Uint8Array;
      try {
        bytes = encodeReply(reply);
      } catch (error) {
        log.error('ipc.reply-too-large', { op: request.op, error: error as Error });
        bytes = encodeReply({ requestId: request.requestId, status: 'unavailable', reason: 'internal-error', message: 'The answer was too large to send.' });
      }
      wipe(reply.secret);
      busy = false;
      tracked.busy = false;
      tracked.lastActiveMs = performance.now();
      if (closed) {
        wipe(bytes);
        return;
      }
      refreshIdle();
      socket.write(bytes, () => wipe(bytes));
    }
  }

  let server;
  try {
    server = await transport.listen(options.socketPath, { connection: accept, error: (error) => log.error('ipc.server-error', { error }) });
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
