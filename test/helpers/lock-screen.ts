/**
 * A lock screen's connection to the agent (docs/ipc.md "Lock-screen connections"): one socket,
 * one request at a time, bound by a status with the lock-screen flag; and the logon credential
 * (docs/windows.md §5) a reply's `secret` carries, decoded.
 */
import net from 'node:net';
import type { RequestWithoutId } from '../../cli/agent-client.js';
import { FRAME_HEADER_BYTES, FrameKind, MAX_REPLY_BODY, decodeFrameHeader } from '../../protocol/ipc-frame.js';
import { decodeReplyBody, encodeRequest, type Reply, type Request } from '../../protocol/ipc-messages.js';
import { decodeLogonCredential } from '../../protocol/windows-logon-credential.js';

export interface Session {
  ask(request: RequestWithoutId): Promise<Reply>;
  close(): void;
}

/** One connection, one request at a time (a lock screen's: status with the flag, then verify). */
export async function session(socketPath: string): Promise<Session> {
  const socket = net.connect(socketPath);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let received = Buffer.alloc(0);
  let waiting: ((reply: Reply) => void) | null = null;
  socket.on('data', (chunk) => {
    received = Buffer.concat([received, chunk]);
    if (received.length < FRAME_HEADER_BYTES) return;
    const { bodyLength } = decodeFrameHeader(received.subarray(0, FRAME_HEADER_BYTES), FrameKind.reply, MAX_REPLY_BODY);
    if (received.length < FRAME_HEADER_BYTES + bodyLength) return;
    const reply = decodeReplyBody(received.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + bodyLength));
    received = received.subarray(FRAME_HEADER_BYTES + bodyLength);
    waiting?.(reply);
  });
  let id = 1;
  return {
    ask(request: RequestWithoutId): Promise<Reply> {
      const reply = new Promise<Reply>((resolve) => (waiting = resolve));
      socket.write(encodeRequest({ ...request, requestId: id++ } as Request));
      return reply;
    },
    close: () => socket.destroy(),
  };
}

/** `request` on a connection the lock screen bound to `user` first (status with the lock-screen flag). */
export async function askAtLockScreen(socketPath: string, user: string, request: RequestWithoutId): Promise<Reply> {
  const lockScreen = await session(socketPath);
  try {
    const bound = await lockScreen.ask({ op: 'status', user, lockScreen: true });
    if (bound.status !== 'ok') throw new Error(`the lock-screen status failed: ${bound.reason}: ${bound.message}`);
    return await lockScreen.ask(request);
  } finally {
    lockScreen.close();
  }
}

/** The logon credential a reply's `secret` carries, its password as text. */
export function logonCredentialOf(reply: Reply): { domain: string; user: string; password: string } {
  if (!reply.secret) throw new Error(`the reply carries no secret: ${reply.status} ${reply.reason ?? ''}`);
  const decoded = decodeLogonCredential(reply.secret);
  if (!decoded.ok) throw new Error(decoded.message);
  return { ...decoded.credential, password: Buffer.from(decoded.credential.password).toString('utf16le') };
}
