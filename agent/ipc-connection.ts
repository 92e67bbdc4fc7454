/**
 * One connection to the agent (docs/ipc.md "Errors and the connection"): frames in through the
 * pure FrameReader, one request answered at a time, a lock screen's connection bound to its user,
 * the account's request budget spent per request. Every malformed, slow or out-of-order input
 * gets an error reply and a closed connection; nothing here decides anything about PINs.
 */
import type { Duplex } from 'node:stream';
import { wipe } from '../protocol/bytes.js';
import { ProtocolError } from '../protocol/errors.js';
import { FrameReader } from '../protocol/ipc-frame-reader.js';
import { FRAME_HEADER_BYTES, FrameKind, MAX_REQUEST_BODY } from '../protocol/ipc-frame.js';
import { decodeRequestBody, encodeReply, type Reason, type Reply, type Request } from '../protocol/ipc-messages.js';
import type { Logger } from '../platform/log.js';
import type { Peer } from './agent-service.js';
import type { TrackedConnection } from './ipc-limits.js';

/** What a connection bound by a lock screen's status may still ask (docs/ipc.md "Lock-screen connections"). */
const LOCK_SCREEN_OPS: ReadonlySet<Request['op']> = new Set([
  'status',
  'verify',
  'online-auth',
  'ble-auth',
  'credential-capture',
  'credential-refused',
]);

/** What the connection, not the request, says about a request (docs/windows.md §5: who gets the logon credential). */
export interface ConnectionFacts {
  /** A status with the lock-screen flag bound this connection to its user. */
  readonly lockScreen: boolean;
}

const PROTOCOL_REASONS: Record<ProtocolError['code'], Reason> = {
  'bad-frame': 'bad-frame',
  'frame-too-large': 'frame-too-large',
  'unsupported-version': 'unsupported-version',
  'unknown-op': 'unknown-op',
  'missing-field': 'missing-field',
  'bad-field': 'bad-field',
  'bad-pin-format': 'bad-field',
  'bad-seed': 'bad-field',
  'bad-counter': 'bad-field',
  'bad-uri': 'bad-field',
  'bad-base32': 'bad-field',
};

/** What the server lends each connection. */
export interface ConnectionServices {
  readonly log: Logger;
  readonly frameTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly handle: (request: Request, peer: Peer, connection: ConnectionFacts) => Promise<Reply>;
  /** A token of the peer's request budget, or the refusal to send once the next token is due. */
  readonly takeToken: (peer: Peer, requestId: number) => { reply: Reply; waitMs: number } | null;
  readonly sendAndClose: (socket: Duplex, reply: Reply) => void;
}

export function serveConnection(
  socket: Duplex,
  peer: Peer,
  tracked: TrackedConnection,
  services: ConnectionServices,
): void {
  const { log } = services;
  const reader = new FrameReader(FrameKind.request, MAX_REQUEST_BODY);
  let busy = false;
  let closed = false;
  /** Set by a status with the lock-screen flag: from then on, only that user's lock-screen requests. */
  let boundUser: string | null = null;
  let frameTimer: NodeJS.Timeout | null = null;
  const idleTimer = setTimeout(() => socket.destroy(), services.idleTimeoutMs);
  const stopFrameTimer = () => {
    if (frameTimer) clearTimeout(frameTimer);
    frameTimer = null;
  };
  socket.on('close', () => {
    closed = true;
    clearTimeout(idleTimer);
    stopFrameTimer();
    reader.wipe();
  });

  const fail = (reason: Reason, message: string, requestId = 0) => {
    if (closed) return;
    closed = true;
    stopFrameTimer();
    reader.wipe();
    log.debug('ipc.refused', { reason, peerUid: peer.uid, peerPid: peer.pid });
    services.sendAndClose(socket, { requestId, status: 'error', reason, message });
  };
  const failProtocol = (error: unknown, requestId?: number) => {
    if (error instanceof ProtocolError)
      fail(PROTOCOL_REASONS[error.code] ?? 'bad-frame', error.message, requestId ?? error.requestId);
    else fail('bad-frame', 'the request could not be decoded');
  };

  socket.on('data', (chunk: Buffer) => {
    if (closed) return;
    idleTimer.refresh();
    tracked.lastActiveMs = performance.now();
    if (busy) {
      chunk.fill(0);
      fail('out-of-order', 'a new request arrived before the reply to the previous one');
      return;
    }
    const read = reader.push(chunk);
    switch (read.status) {
      case 'bad-header':
        return failProtocol(read.error, 0);
      case 'incomplete':
        // The frame has its read timeout from its first byte to arrive whole.
        frameTimer ??= setTimeout(
          () => fail('read-timeout', `the request frame was not complete within ${services.frameTimeoutMs} ms`),
          services.frameTimeoutMs,
        );
        return;
      case 'overrun':
        return fail('out-of-order', 'bytes arrived after a complete request, before its reply');
      case 'complete':
        stopFrameTimer();
        return accept(read.frame);
    }
  });

  function accept(frame: Uint8Array): void {
    let request: Request;
    try {
      request = decodeRequestBody(frame.subarray(FRAME_HEADER_BYTES));
    } catch (error) {
      frame.fill(0);
      failProtocol(error);
      return;
    }
    if (
      boundUser !== null &&
      (!LOCK_SCREEN_OPS.has(request.op) || !('user' in request) || request.user !== boundUser)
    ) {
      frame.fill(0);
      fail(
        'permission-denied',
        `this connection belongs to a lock screen asking about ${JSON.stringify(boundUser)}: it carries only status, verify, online-auth, ble-auth, credential-capture and credential-refused for that user`,
        request.requestId,
      );
      return;
    }
    const limited = services.takeToken(peer, request.requestId);
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
  }

  async function answer(request: Request, frame: Uint8Array): Promise<void> {
    let reply: Reply;
    try {
      reply = await services.handle(request, peer, { lockScreen: boundUser !== null });
    } catch (error) {
      log.error('ipc.handler-fault', { op: request.op, error: error as Error });
      reply = {
        requestId: request.requestId,
        status: 'unavailable',
        reason: 'internal-error',
        message: 'Offline PINs are unavailable right now — use your password.',
      };
    } finally {
      frame.fill(0); // the request's PIN or password lived in this buffer
    }
    let bytes: Uint8Array;
    try {
      bytes = encodeReply(reply);
    } catch (error) {
      log.error('ipc.reply-too-large', { op: request.op, error: error as Error });
      bytes = encodeReply({
        requestId: request.requestId,
        status: 'unavailable',
        reason: 'internal-error',
        message: 'The answer was too large to send.',
      });
    }
    wipe(reply.secret);
    busy = false;
    tracked.busy = false;
    tracked.lastActiveMs = performance.now();
    if (closed) {
      wipe(bytes);
      return;
    }
    idleTimer.refresh();
    socket.write(bytes, () => wipe(bytes));
  }
}
