// A stand-in for the agent's pipe server (docs/windows.md §10), run by node.exe under wine until
// the real agent listens on a pipe (issue 13, phase B). It speaks docs/ipc.md through the agent's
// own TypeScript codec (dist/protocol) and answers each op as the test's script file says, read
// again at every request. Every request it receives is appended to the log as one JSON line.
// It stops when its standard input ends (how the service wrapper asks the agent to stop).
//
//   node.exe stand-in-agent.mjs PIPE SCRIPT.json REQUESTS.log READY DIST_PROTOCOL_DIR
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [pipe, scriptFile, requestLog, readyFile, protocolDir] = process.argv.slice(2);
const load = (name) => import(pathToFileURL(join(protocolDir, name)).href);
const { FRAME_HEADER_BYTES, FrameKind, MAX_REQUEST_BODY, decodeFrameHeader } = await load('ipc-frame.js');
const { decodeRequestBody, encodeReply } = await load('ipc-messages.js');
const { encodeLogonCredential, utf16le } = await load('windows-logon-credential.js');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The reply the script gives for this request: its op's entry, or the PIN's under verify.byPin. */
function scripted(request) {
  const script = JSON.parse(readFileSync(scriptFile, 'utf8'));
  let entry = script[request.op] ?? { status: 'error', reason: 'unknown-op' };
  if (request.op === 'verify' && entry.byPin)
    entry = entry.byPin[new TextDecoder().decode(request.pin)] ?? entry.default;
  return entry;
}

async function answer(request) {
  const { delayMs, hang, credential, secretHex, wrongRequestId, ...reply } = scripted(request);
  if (hang) await sleep(600_000);
  if (delayMs !== undefined) await sleep(delayMs === 'wait' ? request.wait : delayMs);
  if (credential)
    reply.secret = encodeLogonCredential({
      domain: credential.domain,
      user: credential.user,
      password: utf16le(credential.password),
    });
  if (secretHex) reply.secret = Uint8Array.from(Buffer.from(secretHex, 'hex'));
  return encodeReply({ ...reply, requestId: wrongRequestId ? (request.requestId + 1) >>> 0 : request.requestId });
}

function logRequest(request) {
  const { pin, password, ...rest } = request;
  const text = (bytes) => new TextDecoder().decode(bytes);
  appendFileSync(
    requestLog,
    `${JSON.stringify({ ...rest, ...(pin ? { pin: text(pin) } : {}), ...(password ? { password: text(password) } : {}) })}\n`,
  );
}

const server = net.createServer((socket) => {
  let buffered = Buffer.alloc(0);
  let busy = false;
  socket.on('error', () => socket.destroy());
  socket.on('data', async (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    if (busy) return;
    busy = true;
    try {
      while (buffered.length >= FRAME_HEADER_BYTES) {
        const header = decodeFrameHeader(buffered.subarray(0, FRAME_HEADER_BYTES), FrameKind.request, MAX_REQUEST_BODY);
        if (buffered.length < FRAME_HEADER_BYTES + header.bodyLength) break;
        const body = buffered.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + header.bodyLength);
        buffered = buffered.subarray(FRAME_HEADER_BYTES + header.bodyLength);
        const request = decodeRequestBody(Uint8Array.from(body));
        logRequest(request);
        if (!socket.destroyed) socket.write(await answer(request));
      }
    } catch (error) {
      appendFileSync(requestLog, `${JSON.stringify({ refused: String(error) })}\n`);
      socket.destroy();
    }
    busy = false;
  });
});
server.listen(pipe, () => writeFileSync(readyFile, String(process.pid)));
process.stdin.on('end', () => server.close(() => process.exit(0)));
process.stdin.resume();
