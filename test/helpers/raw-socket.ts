/** Talks to the agent's socket byte by byte, for tests of malformed and slow input. */
import net from 'node:net';
import { FRAME_HEADER_BYTES, FrameKind, MAX_REPLY_BODY, decodeFrameHeader } from '../../protocol/ipc-frame.js';
import { decodeReplyBody, type Reply } from '../../protocol/ipc-messages.js';

export interface RawOutcome {
  /** Replies read before the connection closed or the wait ended. */
  readonly replies: Reply[];
  /** True when the agent closed the connection. */
  readonly closed: boolean;
}

function parseReplies(bytes: Buffer): Reply[] {
  const replies: Reply[] = [];
  let offset = 0;
  while (bytes.length - offset >= FRAME_HEADER_BYTES) {
    const { bodyLength } = decodeFrameHeader(
      bytes.subarray(offset, offset + FRAME_HEADER_BYTES),
      FrameKind.reply,
      MAX_REPLY_BODY,
    );
    if (bytes.length - offset < FRAME_HEADER_BYTES + bodyLength) break;
    replies.push(
      decodeReplyBody(bytes.subarray(offset + FRAME_HEADER_BYTES, offset + FRAME_HEADER_BYTES + bodyLength)),
    );
    offset += FRAME_HEADER_BYTES + bodyLength;
  }
  return replies;
}

/** Sends `chunks` (with optional pauses between them) and collects what comes back. */
export function rawExchange(socketPath: string, chunks: (Uint8Array | number)[], waitMs = 1500): Promise<RawOutcome> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    let received = Buffer.alloc(0);
    let closed = false;
    socket.on('data', (chunk) => (received = Buffer.concat([received, chunk])));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      finish();
    });
    const timer = setTimeout(finish, waitMs);
    let done = false;
    function finish() {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      try {
        resolve({ replies: parseReplies(received), closed });
      } catch (error) {
        reject(error);
      }
    }
    socket.once('connect', async () => {
      for (const chunk of chunks) {
        if (typeof chunk === 'number') await new Promise((r) => setTimeout(r, chunk));
        else if (!socket.destroyed) socket.write(chunk);
      }
    });
  });
}
