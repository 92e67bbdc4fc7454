/**
 * The socket boundary (docs/ipc.md "Errors and the connection"): malformed, oversized,
 * truncated, slow, out-of-order and fuzzed frames against a real agent. None may crash it,
 * none may become an accept, and afterwards the agent still answers correctly.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromHex, utf8 } from '../../protocol/bytes.js';
import { encodeFrame, FrameKind } from '../../protocol/ipc-frame.js';
import { encodeRequest } from '../../protocol/ipc-messages.js';
import { enroll, makeTempDir, startInProcessAgent, verifyWith, writeAgentConfig } from '../helpers/agent-harness.js';
import type { InProcessAgent, Phone } from '../helpers/agent-harness.js';
import { rawExchange } from '../helpers/raw-socket.js';

let agent: InProcessAgent;
let phone: Phone;
let nextPin = 0;

beforeAll(async () => {
  const files = await writeAgentConfig(await makeTempDir(), { offlineMode: true, pinCount: 100 });
  agent = await startInProcessAgent(files, {
    ipcLimits: { frameReadTimeoutMs: 300, idleTimeoutMs: 1_000, limits: { connectionsPerPool: 8 } },
  });
  phone = await enroll(agent.ask, 'daemon');
});
afterAll(() => agent?.close());

/** The agent still works: a fresh, valid PIN is accepted. */
async function stillServes() {
  expect(await verifyWith(agent.ask, 'daemon', phone.pin(nextPin++))).toMatchObject({ status: 'accepted' });
}

/** A verify request for the enrolled user, as the PAM module frames it. */
const verifyFrame = (requestId: number, pin: string, context: string) =>
  encodeRequest({ op: 'verify', requestId, user: 'daemon', pin: utf8(pin), context });

const vectors = JSON.parse(readFileSync(new URL('../vectors/ipc-frames.json', import.meta.url), 'utf8')) as {
  invalidRequests: { name: string; hex: string; reason: string }[];
};

describe('IPC boundary', () => {
  it.each(vectors.invalidRequests.map((c) => [c.name, c] as const))(
    'answers the invalid vector "%s" with its reason and closes',
    async (_name, c) => {
      const outcome = await rawExchange(agent.files.socket, [fromHex(c.hex)]);
      expect(outcome.replies).toHaveLength(1);
      expect(outcome.replies[0]).toMatchObject({ status: 'error', reason: c.reason });
      expect(outcome.closed).toBe(true);
    },
  );

  it('refuses an oversized frame from its header alone', async () => {
    const header = encodeFrame(FrameKind.request, [], 0);
    new DataView(header.buffer).setUint32(4, 1_000_000);
    const outcome = await rawExchange(agent.files.socket, [header]);
    expect(outcome.replies[0]).toMatchObject({ status: 'error', reason: 'frame-too-large' });
    expect(outcome.closed).toBe(true);
  });

  it('times out a frame that arrives too slowly, and closes idle connections', async () => {
    const frame = encodeRequest({ op: 'status', requestId: 5, user: 'daemon' });
    const slow = await rawExchange(agent.files.socket, [frame.subarray(0, 10), 500, frame.subarray(10)], 2000);
    expect(slow.replies[0]).toMatchObject({ status: 'error', reason: 'read-timeout' });
    expect(slow.closed).toBe(true);
    const idle = await rawExchange(agent.files.socket, [], 2500);
    expect(idle).toEqual({ replies: [], closed: true });
  });

  it('answers requests in turn on one connection and refuses a second frame sent before the reply', async () => {
    const one = encodeRequest({ op: 'status', requestId: 1, user: 'daemon' });
    const two = encodeRequest({ op: 'status', requestId: 2, user: 'daemon' });
    const inTurn = await rawExchange(agent.files.socket, [one, 100, two], 600);
    expect(inTurn.replies.map((r) => [r.requestId, r.status])).toEqual([
      [1, 'ok'],
      [2, 'ok'],
    ]);
    const pipelined = await rawExchange(agent.files.socket, [Buffer.concat([one, two])]);
    expect(pipelined.replies.at(-1)).toMatchObject({ status: 'error', reason: 'out-of-order' });
    expect(pipelined.closed).toBe(true);
  });

  it("a lock screen's status leaves out the detail and binds the connection to that user's lock-screen requests", async () => {
    const lockScreen = encodeRequest({ op: 'status', requestId: 1, user: 'daemon', lockScreen: true });
    const verify = verifyFrame(2, phone.pin(nextPin++), 'pam:test');
    const plain = await rawExchange(
      agent.files.socket,
      [encodeRequest({ op: 'status', requestId: 9, user: 'daemon' })],
      300,
    );
    expect(plain.replies[0]!.detail).toBeDefined();
    const bound = await rawExchange(
      agent.files.socket,
      [lockScreen, 100, verify, 100, encodeRequest({ op: 'status', requestId: 3, user: 'daemon', lockScreen: true })],
      600,
    );
    expect(bound.replies.map((r) => [r.requestId, r.status])).toEqual([
      [1, 'ok'],
      [2, 'accepted'],
      [3, 'ok'],
    ]);
    expect(bound.replies[0]).toMatchObject({ offlineMode: true, usable: true });
    expect(bound.replies[0]!.detail).toBeUndefined();
    for (const other of [
      encodeRequest({ op: 'status', requestId: 4, user: 'root' }),
      encodeRequest({ op: 'list', requestId: 4 }),
      encodeRequest({ op: 'enroll', requestId: 4, user: 'daemon' }),
      encodeRequest({ op: 'reset', requestId: 4, user: 'daemon', discardState: false }),
    ]) {
      const refused = await rawExchange(agent.files.socket, [lockScreen, 100, other], 600);
      expect(refused.replies.map((r) => [r.requestId, r.status, r.reason])).toEqual([
        [1, 'ok', undefined],
        [4, 'error', 'permission-denied'],
      ]);
      expect(refused.replies[1]!.message).toMatch(/lock screen asking about "daemon"/);
      expect(refused.closed).toBe(true);
    }
    await stillServes();
  });

  it('a wrong PIN in a pipelined burst is still refused and the agent carries on', async () => {
    const wrongFrame = verifyFrame(9, '0000-0000', 'x');
    const outcome = await rawExchange(agent.files.socket, [Buffer.concat([wrongFrame, wrongFrame, wrongFrame])]);
    expect(outcome.replies.every((r) => r.status !== 'accepted')).toBe(true);
    await agent.ask({ op: 'reset', user: 'daemon', discardState: false });
    await stillServes();
  });

  it('limits open connections: a new one takes the place of the longest idle one (docs/ipc.md "Limits per account")', async () => {
    const held: net.Socket[] = [];
    for (let i = 0; i < 8; i++) {
      const socket = net.connect(agent.files.socket);
      await new Promise((resolve) => socket.once('connect', resolve));
      held.push(socket);
      await new Promise((resolve) => setTimeout(resolve, 5)); // distinct idle times
    }
    const oldestClosed = new Promise((resolve) => held[0]!.once('close', resolve));
    const extra = await rawExchange(
      agent.files.socket,
      [encodeRequest({ op: 'status', requestId: 3, user: 'daemon' })],
      500,
    );
    expect(extra.replies[0]).toMatchObject({ requestId: 3, status: 'ok' });
    await oldestClosed; // evicted without a reply, as by the idle timeout
    expect(held.slice(1).every((socket) => !socket.destroyed)).toBe(true);
    for (const socket of held) socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await stillServes();
  });

  it('survives random bytes, random bodies behind a valid header, and bit-flipped wrong-PIN frames (fuzz)', async () => {
    const wrongFrame = verifyFrame(77, 'ZZZZ-ZZZZ', 'fuzz');
    const frames = fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 600 }),
      fc.uint8Array({ maxLength: 300 }).map((body) => {
        const frame = new Uint8Array(8 + body.length);
        frame.set([0x4c, 0x4b, 1, 1]);
        new DataView(frame.buffer).setUint32(4, body.length);
        frame.set(body, 8);
        return frame;
      }),
      fc.array(fc.nat({ max: wrongFrame.length * 8 - 1 }), { minLength: 1, maxLength: 6 }).map((bits) => {
        const copy = wrongFrame.slice();
        for (const bit of bits) copy[bit >>> 3]! ^= 1 << (bit & 7);
        return copy;
      }),
    );
    await fc.assert(
      fc.asyncProperty(frames, async (frame) => {
        const outcome = await rawExchange(agent.files.socket, [frame], 400);
        for (const reply of outcome.replies) expect(reply.status).not.toBe('accepted');
      }),
      { numRuns: 300 },
    );
    await agent.ask({ op: 'reset', user: 'daemon', discardState: false });
    await stillServes();
  }, 120_000);

  it('a client that disconnects mid-request does not disturb the agent', async () => {
    const frame = encodeRequest({
      op: 'verify',
      requestId: 3,
      user: 'daemon',
      pin: phone.pinBytes(nextPin),
      context: 'x',
    });
    await rawExchange(agent.files.socket, [frame.subarray(0, frame.length - 3)], 50);
    await stillServes();
  });
});
