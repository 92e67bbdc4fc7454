import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../protocol/bytes.js';
import { ProtocolError } from '../../protocol/errors.js';
import { FRAME_HEADER_BYTES, FrameKind, MAX_REPLY_BODY, MAX_REQUEST_BODY } from '../../protocol/ipc-frame.js';
import { decodeFrameHeader } from '../../protocol/ipc-frame.js';
import { decodeReplyBody, decodeRequestBody, encodeReply, encodeRequest } from '../../protocol/ipc-messages.js';
import type { Request } from '../../protocol/ipc-messages.js';
import { ipcFrameVectors } from '../vectors/ipc-frames.js';

const vectors = ipcFrameVectors;

function decodeRequestFrame(frame: Uint8Array): Request {
  const header = decodeFrameHeader(frame.subarray(0, FRAME_HEADER_BYTES), FrameKind.request, MAX_REQUEST_BODY);
  const body = frame.subarray(FRAME_HEADER_BYTES);
  if (body.length !== header.bodyLength) throw new ProtocolError('bad-frame', 'length mismatch');
  return decodeRequestBody(body);
}

function decodeReplyFrame(frame: Uint8Array) {
  decodeFrameHeader(frame.subarray(0, FRAME_HEADER_BYTES), FrameKind.reply, MAX_REPLY_BODY);
  return decodeReplyBody(frame.subarray(FRAME_HEADER_BYTES));
}

function plain(request: Request): Record<string, unknown> {
  const out: Record<string, unknown> = { ...request };
  if ('pin' in request) {
    out.pinHex = toHex(request.pin);
    delete out.pin;
  }
  if ('token' in request) {
    out.tokenHex = toHex(request.token);
    delete out.token;
  }
  if ('password' in request && request.password !== undefined) {
    out.passwordHex = toHex(request.password);
    delete out.password;
  }
  return out;
}

describe('IPC requests (docs/ipc.md, test/vectors/ipc-frames.json)', () => {
  it.each(vectors.validRequests!.map((c) => [c.name, c] as const))('decodes and re-encodes: %s', (_name, c) => {
    const request = decodeRequestFrame(fromHex(c.hex));
    expect(plain(request)).toEqual(c.request);
    expect(plain(decodeRequestFrame(encodeRequest(request)))).toEqual(c.request);
  });

  it.each(vectors.invalidRequests!.map((c) => [c.name, c] as const))('refuses with its reason: %s', (_name, c) => {
    let error: unknown;
    try {
      decodeRequestFrame(fromHex(c.hex));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).code).toBe(c.reason);
    expect((error as ProtocolError).message.length).toBeGreaterThan(10);
  });

  it('reports the request id with a field error once the id was readable', () => {
    const bad = vectors.invalidRequests!.find((c) => c.name === 'slash in user')!;
    try {
      decodeRequestFrame(fromHex(bad.hex));
      expect.unreachable();
    } catch (error) {
      expect((error as ProtocolError).requestId).toBe(1);
    }
  });

  it('never throws anything but a ProtocolError on random bodies (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (body) => {
        try {
          decodeRequestBody(body);
        } catch (error) {
          if (!(error instanceof ProtocolError)) throw error;
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('round-trips any well-formed verify request (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc
          .string({ minLength: 1, maxLength: 60 })
          // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what this pattern is for
          .filter((s) => !/[\u0000-\u001f\u007f/]/.test(s) && Buffer.byteLength(s) <= 256),
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        (requestId, user, pin) => {
          const decoded = decodeRequestFrame(
            encodeRequest({ op: 'verify', requestId, user, pin, context: 'pam:test' }),
          );
          expect(decoded).toEqual({ op: 'verify', requestId, user, pin, context: 'pam:test' });
        },
      ),
    );
  });

  it('an encoder refuses to build a frame over the request limit', () => {
    expect(() =>
      encodeRequest({ op: 'verify', requestId: 1, user: 'a', pin: new Uint8Array(5000), context: '' }),
    ).toThrow(RangeError);
  });
});

describe('IPC replies', () => {
  it.each(vectors.validReplies!.map((c) => [c.name, c] as const))('decodes: %s', (_name, c) => {
    expect({ ...decodeReplyFrame(fromHex(c.hex)) }).toEqual(c.reply);
  });

  it.each(vectors.invalidReplies!.map((c) => [c.name, c] as const))('refuses: %s', (_name, c) => {
    expect(() => decodeReplyFrame(fromHex(c.hex))).toThrow(expect.objectContaining({ code: c.reason }));
  });

  it('round-trips every reply field', () => {
    const reply = {
      requestId: 3,
      status: 'ok' as const,
      reason: 'no-pool' as const,
      message: 'Hello — 1',
      remaining: 4,
      low: true,
      retryAfter: 60,
      offlineMode: true,
      usable: false,
      locked: true,
      secret: new Uint8Array([1, 2, 3]),
      detail: '{"a":1}',
    };
    expect(decodeReplyFrame(encodeReply(reply))).toEqual(reply);
  });
});
