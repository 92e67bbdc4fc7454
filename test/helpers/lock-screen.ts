/**
 * A lock screen's connection to the agent (docs/ipc.md "Lock-screen connections"): one socket,
 * one request at a time, bound by a status with the lock-screen flag, from the system (root here)
 * or from an elevated administrator who is not it; the logon credential (docs/windows.md §5) a
 * reply's `secret` carries, decoded; and the Windows side of the agent on Linux (one account, its
 * SID, a stand-in for the password check).
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RequestWithoutId } from '../../cli/agent-client.js';
import type { PasswordCheck } from '../../platform/password-check.js';
import { FRAME_HEADER_BYTES, FrameKind, MAX_REPLY_BODY, decodeFrameHeader } from '../../protocol/ipc-frame.js';
import { decodeReplyBody, encodeRequest, type Reply, type Request } from '../../protocol/ipc-messages.js';
import { decodeLogonCredential } from '../../protocol/windows-logon-credential.js';
import { REPO, makeTempDir, type startInProcessAgent } from './agent-harness.js';
import { collectOutput } from './child-output.js';
import { NOBODY } from './other-user.js';

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

/** A PIN typed at the lock screen (`cp:unlock`): status with the lock-screen flag, then verify, on one connection. */
export function pinAtLockScreen(socketPath: string, user: string, pin: string): Promise<Reply> {
  return askAtLockScreen(socketPath, user, {
    op: 'verify',
    user,
    pin: new TextEncoder().encode(pin),
    context: 'cp:unlock',
  });
}

/** The logon credential a reply's `secret` carries, its password as text. */
export function logonCredentialOf(reply: Reply): { domain: string; user: string; password: string } {
  if (!reply.secret) throw new Error(`the reply carries no secret: ${reply.status} ${reply.reason ?? ''}`);
  const decoded = decodeLogonCredential(reply.secret);
  if (!decoded.ok) throw new Error(decoded.message);
  return { ...decoded.credential, password: Buffer.from(decoded.credential.password).toString('utf16le') };
}

/** The agent's Windows seams for one account (test/helpers/agent-harness.ts `windows`): its SID, and a password check against `password()`. */
export function windowsStandIn(
  account: string,
  sid: string,
  password: () => string,
): NonNullable<NonNullable<Parameters<typeof startInProcessAgent>[1]>['windows']> {
  const passwordCheck: PasswordCheck = async ({ user, password: given }) =>
    user === account && Buffer.from(given).toString('utf8') === password()
      ? { ok: true }
      : { ok: false, code: 'password-rejected', message: 'the stand-in refused it' };
  return {
    platformName: 'win32',
    passwordCheck,
    // The account as LookupAccountNameW spells it, whatever case the request used.
    lookupAccount: async (user) => (user.toLowerCase() === account.toLowerCase() ? { name: account, uid: sid } : null),
  };
}

/** A lock screen's two requests on one connection, by a script that prints the second reply's shape. */
const LOCK_SCREEN_SCRIPT = `import net from 'node:net';
const [protocol, socketPath, user, ask] = process.argv.slice(2);
const { encodeRequest, decodeReplyBody } = await import(protocol + '/ipc-messages.js');
const { FRAME_HEADER_BYTES, FrameKind, MAX_REPLY_BODY, decodeFrameHeader } = await import(protocol + '/ipc-frame.js');
const socket = net.connect(socketPath);
let received = Buffer.alloc(0);
const replies = [];
let wake = () => {};
socket.on('data', (chunk) => {
  received = Buffer.concat([received, chunk]);
  while (received.length >= FRAME_HEADER_BYTES) {
    const { bodyLength } = decodeFrameHeader(received.subarray(0, FRAME_HEADER_BYTES), FrameKind.reply, MAX_REPLY_BODY);
    if (received.length < FRAME_HEADER_BYTES + bodyLength) break;
    replies.push(decodeReplyBody(received.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + bodyLength)));
    received = received.subarray(FRAME_HEADER_BYTES + bodyLength);
    wake();
  }
});
const next = (count) => new Promise((resolve) => { wake = () => replies.length >= count && resolve(replies[count - 1]); });
socket.write(encodeRequest({ op: 'status', requestId: 1, user, lockScreen: true }));
const bound = await next(1);
if (bound.status !== 'ok') throw new Error('status: ' + bound.status);
socket.write(encodeRequest({ ...JSON.parse(ask), requestId: 2 }));
const reply = await next(2);
console.log(JSON.stringify({ status: reply.status, secret: reply.secret !== undefined }));
socket.destroy();
`;

/**
 * `request` (JSON: no bytes) on a lock-screen connection from an elevated administrator who is not the system:
 * effective uid root, real uid nobody (`setpriv --ruid`), so the agent sees admin but not its own account.
 */
export async function askAsElevatedAdministrator(
  socket: string,
  user: string,
  request: RequestWithoutId,
): Promise<{ status: string; secret: boolean }> {
  const script = path.join(await makeTempDir('latchkey-elevated-'), 'lock-screen.mjs');
  await fs.writeFile(script, LOCK_SCREEN_SCRIPT);
  const protocol = pathToFileURL(path.join(REPO, 'dist/protocol')).href;
  const child = spawn(
    'setpriv',
    ['--ruid', String(NOBODY), process.execPath, script, protocol, socket, user, JSON.stringify(request)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const printed = collectOutput(child, 'the elevated lock screen');
  try {
    const line = await printed.waitForOutput((output) => /^\{.*\}$/m.exec(output)?.[0], 'its reply', 60_000);
    return JSON.parse(line) as { status: string; secret: boolean };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await printed.exited;
  }
}
