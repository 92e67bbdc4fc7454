/**
 * IPC framing (docs/ipc.md "Frame" and "Fields"): an 8-byte header, then TLV fields.
 * Pure: no sockets here. Every length is checked before bytes are read.
 */
import { ProtocolError } from './errors.js';

export const IPC_MAGIC_0 = 0x4c; // 'L'
export const IPC_MAGIC_1 = 0x4b; // 'K'
export const IPC_VERSION = 1;
export const FRAME_HEADER_BYTES = 8;
export const MAX_REQUEST_BODY = 4096;
export const MAX_REPLY_BODY = 65536;
export const FIELD_HEADER_BYTES = 3;
export const MAX_FIELD_VALUE = 0xffff;

export const FrameKind = { request: 1, reply: 2 } as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

export interface FrameHeader {
  readonly kind: FrameKind;
  readonly bodyLength: number;
}

/**
 * Checks a complete 8-byte header (docs/ipc.md "Errors and the connection"): magic, version,
 * the kind this side expects, and the body length against `maxBody`.
 */
export function decodeFrameHeader(header: Uint8Array, expectedKind: FrameKind, maxBody: number): FrameHeader {
  if (header.length < FRAME_HEADER_BYTES) throw new ProtocolError('bad-frame', 'frame header is shorter than 8 bytes');
  if (header[0] !== IPC_MAGIC_0 || header[1] !== IPC_MAGIC_1) {
    throw new ProtocolError('bad-frame', 'frame does not start with the magic "LK"');
  }
  if (header[2] !== IPC_VERSION) {
    throw new ProtocolError(
      'unsupported-version',
      `protocol version ${header[2]} is not supported (this side speaks 1)`,
    );
  }
  if (header[3] !== expectedKind) {
    throw new ProtocolError(
      'bad-frame',
      `frame kind ${header[3]} where ${expectedKind === FrameKind.request ? 'a request' : 'a reply'} was expected`,
    );
  }
  const bodyLength = new DataView(header.buffer, header.byteOffset, header.byteLength).getUint32(4);
  if (bodyLength > maxBody) {
    throw new ProtocolError('frame-too-large', `frame body of ${bodyLength} bytes is over the limit of ${maxBody}`);
  }
  return { kind: expectedKind, bodyLength };
}

export interface RawField {
  readonly tag: number;
  readonly value: Uint8Array;
}

/** Splits a body into fields; no overrun, no trailing bytes, each tag at most once. */
export function splitFields(body: Uint8Array): Map<number, Uint8Array> {
  const fields = new Map<number, Uint8Array>();
  let offset = 0;
  while (offset < body.length) {
    if (body.length - offset < FIELD_HEADER_BYTES) {
      throw new ProtocolError('bad-frame', `truncated field header at byte ${offset}`);
    }
    const tag = body[offset]!;
    const length = (body[offset + 1]! << 8) | body[offset + 2]!;
    offset += FIELD_HEADER_BYTES;
    if (length > body.length - offset) {
      throw new ProtocolError(
        'bad-frame',
        `field 0x${hex(tag)} declares ${length} bytes but only ${body.length - offset} remain`,
      );
    }
    if (fields.has(tag)) throw new ProtocolError('bad-field', `field 0x${hex(tag)} appears twice`);
    fields.set(tag, body.subarray(offset, offset + length));
    offset += length;
  }
  return fields;
}

/** Builds a frame from fields; throws RangeError if the body would exceed `maxBody`. */
export function encodeFrame(kind: FrameKind, fields: readonly RawField[], maxBody: number): Uint8Array {
  let bodyLength = 0;
  for (const field of fields) {
    if (field.value.length > MAX_FIELD_VALUE)
      throw new RangeError(`field 0x${hex(field.tag)} is longer than ${MAX_FIELD_VALUE} bytes`);
    bodyLength += FIELD_HEADER_BYTES + field.value.length;
  }
  if (bodyLength > maxBody) throw new RangeError(`frame body of ${bodyLength} bytes is over the limit of ${maxBody}`);
  const frame = new Uint8Array(FRAME_HEADER_BYTES + bodyLength);
  frame.set([IPC_MAGIC_0, IPC_MAGIC_1, IPC_VERSION, kind]);
  new DataView(frame.buffer).setUint32(4, bodyLength);
  let offset = FRAME_HEADER_BYTES;
  for (const field of fields) {
    frame[offset] = field.tag;
    frame[offset + 1] = field.value.length >>> 8;
    frame[offset + 2] = field.value.length & 0xff;
    frame.set(field.value, offset + FIELD_HEADER_BYTES);
    offset += FIELD_HEADER_BYTES + field.value.length;
  }
  return frame;
}

export function hex(tag: number): string {
  return tag.toString(16).padStart(2, '0');
}
