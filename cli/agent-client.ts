/**
 * A client for the agent's socket (docs/ipc.md): one request, one reply, bounded by a timeout.
 * Fails closed: any transport or protocol problem is an AgentClientError, never a reply.
 */
import { localTransport } from '../platform/ipc-transport.js';
import { wipe } from '../protocol/bytes.js';
import { FrameReader } from '../protocol/ipc-frame-reader.js';
import { FRAME_HEADER_BYTES, FrameKind, MAX_REPLY_BODY } from '../protocol/ipc-frame.js';
import { decodeReplyBody, encodeRequest, type Reply, type Request } from '../protocol/ipc-messages.js';
import { CodedError } from '../protocol/coded-error.js';

export { DEFAULT_SOCKET } from '../agent/config.js';

export class AgentClientError extends CodedError<'agent-unreachable' | 'agent-timeout' | 'agent-protocol'> {}

export type RequestWithoutId = Request extends infer R
  ? R extends { requestId: number }
    ? Omit<R, 'requestId'>
    : never
  : never;

/** Why a connection to the agent's socket failed, as words. */
export function unreachableBecause(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ENOENT':
      return 'no agent socket there';
    case 'ECONNREFUSED':
      return 'no agent is listening';
    case 'EACCES':
      return "permission denied (the socket's directory must be open to this user: docs/ipc.md)";
    case 'ENOTDIR':
      return 'a part of that path is a file, not a directory';
    default:
      return error.message;
  }
}

const START_IT = ' (is the agent running? start it with "latchkey agent", or name its socket with --socket)';

let nextRequestId = (Math.random() * 0xffff) >>> 0;

/** Sends one request and returns the reply. The request's secrets are wiped from the sent frame. */
export function askAgent(socketPath: string, request: RequestWithoutId, timeoutMs: number): Promise<Reply> {
  nextRequestId = (nextRequestId + 1) >>> 0;
  const requestId = nextRequestId;
  const frame = encodeRequest({ ...request, requestId } as Request);
  return new Promise<Reply>((resolve, reject) => {
    const socket = localTransport().connect(socketPath);
    const reader = new FrameReader(FrameKind.reply, MAX_REPLY_BODY);
    let settled = false;
    const finish = (error: Error | null, reply?: Reply) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      wipe(frame);
      reader.wipe();
      socket.destroy();
      if (error) reject(error);
      else resolve(reply!);
    };
    const timer = setTimeout(
      () =>
        finish(
          new AgentClientError('agent-timeout', `the agent on ${socketPath} did not answer within ${timeoutMs} ms`),
        ),
      timeoutMs,
    );
    socket.once('connect', () => socket.write(frame));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      const hint = error.code === 'ENOENT' || error.code === 'ECONNREFUSED' ? START_IT : '';
      finish(
        new AgentClientError(
          'agent-unreachable',
          `cannot reach the agent on ${socketPath}: ${unreachableBecause(error)}${hint}`,
          { cause: error },
        ),
      );
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        const read = reader.push(chunk);
        if (read.status === 'incomplete') return;
        if (read.status === 'bad-header') throw read.error;
        if (read.status === 'overrun') throw new Error('extra bytes after the reply');
        let reply: Reply;
        try {
          reply = decodeReplyBody(read.frame.subarray(FRAME_HEADER_BYTES));
          if (reply.secret) reply.secret = new Uint8Array(reply.secret); // own copy: the frame is wiped
        } finally {
          read.frame.fill(0);
        }
        if (reply.requestId !== requestId && reply.requestId !== 0)
          throw new Error(`reply for request ${reply.requestId}, expected ${requestId}`);
        finish(null, reply);
      } catch (error) {
        finish(
          new AgentClientError(
            'agent-protocol',
            `the agent sent a reply this client cannot read: ${(error as Error).message}`,
            { cause: error },
          ),
        );
      }
    });
    socket.on('end', () =>
      finish(new AgentClientError('agent-protocol', 'the agent closed the connection without a complete reply')),
    );
  });
}
