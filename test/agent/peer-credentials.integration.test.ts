/**
 * docs/ipc.md "Peer credentials" with a real non-root client: a process running as `nobody`
 * (uid 65534) may ask about itself only. The agent reads SO_PEERCRED; nothing is claimed.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lookupUserByName } from '../../platform/linux/users.js';
import { utf8 } from '../../protocol/bytes.js';
import { enroll, makeTempDir, Phone, startInProcessAgent, writeAgentConfig } from '../helpers/agent-harness.js';
import type { InProcessAgent } from '../helpers/agent-harness.js';
import { NOBODY, makeScriptDir, runScriptAs } from '../helpers/other-user.js';
import { administer, removeUser } from '../platform/linux/helpers.js';

const SELF_USER = 'latchkey-selfenrol';
const SELF_PASSWORD = 'correct horse battery staple 42';
const PAM_SERVICE = 'latchkey-test-selfenrol';
let agent: InProcessAgent;
let clientDir: string;

const CLIENT = `
import net from 'node:net';
import { encodeRequest, decodeReplyBody } from './protocol/ipc-messages.js';
const [socketPath, requestsJson] = process.argv.slice(2);
const out = [];
for (const [i, request] of JSON.parse(requestsJson).entries()) {
  if (request.pin) request.pin = new TextEncoder().encode(request.pin);
  if (request.password) request.password = new TextEncoder().encode(request.password);
  out.push(await new Promise((resolve) => {
    const socket = net.connect(socketPath, () => socket.write(encodeRequest({ ...request, requestId: i + 1 })));
    let data = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk]);
      if (data.length >= 8 && data.length >= 8 + data.readUInt32BE(4)) socket.destroy();
    });
    socket.on('error', (error) => resolve({ transportError: error.code }));
    socket.on('close', () => {
      try { const r = decodeReplyBody(data.subarray(8)); resolve({ status: r.status, reason: r.reason, message: r.message, secret: r.secret ? Buffer.from(r.secret).toString() : undefined }); }
      catch (error) { resolve({ decodeError: String(error) }); }
    });
    const timer = setTimeout(() => socket.end(), 10000);
    socket.on('close', () => clearTimeout(timer));
  }));
}
process.stdout.write(JSON.stringify({ uid: process.getuid(), replies: out }));
`;

beforeAll(async () => {
  if (process.getuid?.() !== 0)
    throw new Error('this test needs root (it runs a client as uid 65534); CI runs npm test as root');
  // A world-readable place for the socket and the client, outside root's 0700 temp dirs.
  clientDir = await makeScriptDir({ client: CLIENT });
  removeUser(SELF_USER);
  administer('useradd', ['-M', '-s', '/usr/sbin/nologin', SELF_USER]);
  administer('chpasswd', [], `${SELF_USER}:${SELF_PASSWORD}\n`);
  await fs.writeFile(`/etc/pam.d/${PAM_SERVICE}`, 'auth required pam_unix.so\naccount required pam_unix.so\n');
  const files = await writeAgentConfig(
    await makeTempDir(),
    { offlineMode: true, pinCount: 10 },
    { socket: path.join(clientDir, 'agent.sock'), selfEnrollPamService: PAM_SERVICE },
  );
  agent = await startInProcessAgent({ ...files, socket: path.join(clientDir, 'agent.sock') });
  await enroll(agent.ask, 'daemon');
});
afterAll(async () => {
  await agent?.close();
  removeUser(SELF_USER);
  await fs.rm(`/etc/pam.d/${PAM_SERVICE}`, { force: true });
});

/** Runs the client as nobody (asynchronously: the agent answers from this same process). */
async function askAsNobody(requests: object[], uid = NOBODY) {
  return JSON.parse(await runScriptAs(uid, clientDir, 'client', [agent.files.socket, JSON.stringify(requests)])) as {
    uid: number;
    replies: Record<string, unknown>[];
  };
}

describe('peer credentials', () => {
  it('lets a non-root process ask only about its own user', async () => {
    const { uid, replies } = await askAsNobody([
      { op: 'status', user: 'nobody' },
      { op: 'verify', user: 'nobody', pin: 'ABCD-EFGH', context: 'test' },
      { op: 'status', user: 'daemon' },
      { op: 'verify', user: 'daemon', pin: 'ABCD-EFGH', context: 'test' },
      { op: 'verify', user: 'root', pin: 'ABCD-EFGH', context: 'test' },
      { op: 'reset', user: 'nobody', discardState: false },
      { op: 'list' },
      { op: 'enroll', user: 'nobody' },
      { op: 'enroll', user: 'daemon' },
      { op: 'status', user: 'no-such-user-latchkey' },
    ]);
    expect(uid).toBe(NOBODY);
    expect(replies[0]).toMatchObject({ status: 'ok' });
    expect(replies[1]).toMatchObject({ status: 'unavailable', reason: 'no-pool' });
    for (const i of [2, 3, 4, 5, 6, 8])
      expect(replies[i], `request ${i}`).toMatchObject({ status: 'error', reason: 'permission-denied' });
    expect(replies[7]).toMatchObject({
      status: 'error',
      reason: 'permission-denied',
      message: expect.stringMatching(/password/),
    });
    expect(replies[9]).toMatchObject({ status: 'error', reason: 'unknown-user' });
  });

  it('lets a user enroll themselves with their own password, checked through PAM', async () => {
    const uid = lookupUserByName(SELF_USER)!.uid;
    const { replies } = await askAsNobody(
      [
        { op: 'enroll', user: SELF_USER, password: 'not my password' },
        { op: 'enroll', user: SELF_USER, password: SELF_PASSWORD },
        { op: 'enroll', user: 'daemon', password: SELF_PASSWORD },
      ],
      uid,
    );
    expect(replies[0]).toMatchObject({ status: 'error', reason: 'password-rejected' });
    expect(replies[1]).toMatchObject({
      status: 'ok',
      secret: expect.stringMatching(/^latchkey:\/\/offline-pins\?v=1&user=latchkey-selfenrol&/),
    });
    expect(replies[2]).toMatchObject({ status: 'error', reason: 'permission-denied' });
    const phone = new Phone(utf8(replies[1]!.secret as string));
    const { replies: verified } = await askAsNobody(
      [{ op: 'verify', user: SELF_USER, pin: phone.pin(0), context: 'test' }],
      uid,
    );
    expect(verified[0]).toMatchObject({ status: 'accepted', message: 'Unlocked — 9 offline PINs left.' });
  });

  it('lets a user ask for a Bluetooth unlock or unpair of their own, but never pair a phone (root only)', async () => {
    const { replies } = await askAsNobody([
      { op: 'ble-auth', user: 'nobody', context: 'test', wait: 1000 },
      { op: 'ble-auth', user: 'daemon', context: 'test', wait: 1000 },
      { op: 'ble-pair', user: 'nobody' },
      { op: 'ble-pair-finish', user: 'nobody', pairingId: '7K2QD', wait: 1000 },
      { op: 'ble-unpair', user: 'nobody' },
      { op: 'ble-unpair', user: 'daemon' },
    ]);
    expect(replies[0]).toMatchObject({ status: 'unavailable', reason: 'ble-off' });
    for (const i of [1, 2, 3, 5])
      expect(replies[i], `request ${i}`).toMatchObject({ status: 'error', reason: 'permission-denied' });
    expect(replies[4]).toMatchObject({ status: 'error', reason: 'not-enrolled' });
  });

  it('audits the peer of every verification', async () => {
    await askAsNobody([{ op: 'verify', user: 'nobody', pin: '1234-5678', context: 'pam:test' }]);
    const lines = (await fs.readFile(agent.files.auditLog, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.at(-1)).toMatchObject({
      event: 'verify',
      user: 'nobody',
      result: 'unavailable',
      context: 'pam:test',
      peer: { uid: NOBODY },
    });
  });
});
