import { describe, expect, it } from 'vitest';
import { FrameReader } from '../../protocol/ipc-frame-reader.js';
import { FRAME_HEADER_BYTES, FrameKind, MAX_REQUEST_BODY } from '../../protocol/ipc-frame.js';
import { encodeRequest } from '../../protocol/ipc-messages.js';
import { utf8 } from '../../protocol/bytes.js';

const frame = () =>
  encodeRequest({ op: 'verify', requestId: 7, user: 'alice', pin: utf8('K7QM2XHD'), context: 'test' });

describe('FrameReader', () => {
  it('takes a whole frame in one piece as it is, and is empty again after it', () => {
    const reader = new FrameReader(FrameKind.request, MAX_REQUEST_BODY);
    const bytes = frame();
    const read = reader.push(bytes);
    expect(read).toEqual({ status: 'complete', frame: bytes });
    expect(reader.push(frame()).status).toBe('complete');
  });

  it('joins a frame that arrives a byte at a time, and wipes the pieces it joined', () => {
    const reader = new FrameReader(FrameKind.request, MAX_REQUEST_BODY);
    const bytes = frame();
    const pieces = [...bytes].map((byte) => new Uint8Array([byte]));
    for (const piece of pieces.slice(0, -1)) expect(reader.push(piece).status).toBe('incomplete');
    const read = reader.push(pieces.at(-1)!);
    expect(read.status).toBe('complete');
    expect(read.status === 'complete' && [...read.frame]).toEqual([...bytes]);
    expect(pieces.slice(1).every((piece) => piece[0] === 0)).toBe(true);
  });

  it('refuses a header as soon as its 8 bytes are there, before the body', () => {
    const reader = new FrameReader(FrameKind.reply, MAX_REQUEST_BODY);
    const read = reader.push(frame().subarray(0, FRAME_HEADER_BYTES));
    expect(read.status).toBe('bad-header');
    expect(read.status === 'bad-header' && read.error.code).toBe('bad-frame');
    const tooLarge = frame();
    new DataView(tooLarge.buffer).setUint32(4, MAX_REQUEST_BODY + 1);
    const large = new FrameReader(FrameKind.request, MAX_REQUEST_BODY).push(tooLarge.subarray(0, FRAME_HEADER_BYTES));
    expect(large.status === 'bad-header' && large.error.code).toBe('frame-too-large');
  });

  it('says when bytes run past the end of a whole frame, and wipes what it held', () => {
    const reader = new FrameReader(FrameKind.request, MAX_REQUEST_BODY);
    const first = frame().subarray(0, 3);
    reader.push(first);
    const rest = new Uint8Array([...frame().subarray(3), 0x4c]);
    expect(reader.push(rest).status).toBe('overrun');
    reader.wipe();
    expect(reader.push(frame()).status).toBe('complete');
  });
});
