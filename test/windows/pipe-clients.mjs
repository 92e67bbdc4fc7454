// Several clients at once on the agent's pipe (docs/windows.md §3), run by node.exe under wine:
// one connection that says nothing is held open, then COUNT clients connect together, and only
// once every one is connected does each send a status request; every reply must come back. It
// prints { connected, replies: [{ status, message }], silentOpen } as one JSON line.
//
//   node.exe pipe-clients.mjs PIPE USER COUNT DIST_PROTOCOL_DIR
import net from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [pipe, user, count, protocolDir] = process.argv.slice(2);
const load = (name) => import(pathToFileURL(join(protocolDir, name)).href);
const { FrameKind, MAX_REPLY_BODY, FRAME_HEADER_BYTES } = await load('ipc-frame.js');
const { FrameReader } = await load('ipc-frame-reader.js');
const { encodeRequest, decodeReplyBody } = await load('ipc-messages.js');

const connect = () =>
  new Promise((resolve, reject) => {
    const socket = net.connect(pipe);
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });

const silent = await connect();
let silentOpen = true;
silent.on('close', () => (silentOpen = false));
silent.on('error', () => undefined);
const sockets = await Promise.all(Array.from({ length: Number(count) }, connect));
const replies = await Promise.all(
  sockets.map(
    (socket, index) =>
      new Promise((resolve, reject) => {
        const reader = new FrameReader(FrameKind.reply, MAX_REPLY_BODY);
        socket.on('data', (chunk) => {
          const read = reader.push(Uint8Array.from(chunk));
          if (read.status === 'complete') {
            const reply = decodeReplyBody(read.frame.subarray(FRAME_HEADER_BYTES));
            socket.destroy();
            resolve({ status: reply.status, message: reply.message, requestId: reply.requestId, index });
          } else if (read.status !== 'incomplete') reject(new Error(read.status));
        });
        socket.once('error', reject);
        socket.write(encodeRequest({ op: 'status', user, requestId: 100 + index }));
      }),
  ),
);
process.stdout.write(`${JSON.stringify({ connected: sockets.length, replies, silentOpen })}\n`);
silent.destroy();
