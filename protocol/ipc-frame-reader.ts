/**
 * Reassembles one frame from the pieces a stream delivers (docs/ipc.md "Frame"), for the agent's
 * server and for clients alike. Pure: bytes in, a verdict out; the caller owns sockets and timers.
 * Pieces are joined into a new buffer and the old ones wiped, since a request may carry a PIN.
 */
import { concatBytes } from './bytes.js';
import type { ProtocolError } from './errors.js';
import { FRAME_HEADER_BYTES, decodeFrameHeader, type FrameKind } from './ipc-frame.js';

export type FrameRead =
  /** More bytes are needed: the frame has begun (the caller's read timeout runs from its first byte). */
  | { readonly status: 'incomplete' }
  /** Exactly one whole frame, header and body; the reader is empty again. The caller wipes it. */
  | { readonly status: 'complete'; readonly frame: Uint8Array }
  /** Bytes arrived past the end of a whole frame (before its answer): the other side does not wait its turn. */
  | { readonly status: 'overrun' }
  /** The header is refused (magic, version, kind, or a body over the limit): the frame cannot be read. */
  | { readonly status: 'bad-header'; readonly error: ProtocolError };

export class FrameReader {
  #buffer: Uint8Array = new Uint8Array(0);
  #bodyLength: number | null = null;

  constructor(
    private readonly kind: FrameKind,
    private readonly maxBody: number,
  ) {}

  push(chunk: Uint8Array): FrameRead {
    // A whole frame in one chunk (the usual case) is used as it is; pieces are joined and wiped.
    if (this.#buffer.length === 0) this.#buffer = chunk;
    else {
      const joined = concatBytes(this.#buffer, chunk);
      this.#buffer.fill(0);
      chunk.fill(0);
      this.#buffer = joined;
    }
    if (this.#bodyLength === null && this.#buffer.length >= FRAME_HEADER_BYTES) {
      try {
        this.#bodyLength = decodeFrameHeader(
          this.#buffer.subarray(0, FRAME_HEADER_BYTES),
          this.kind,
          this.maxBody,
        ).bodyLength;
      } catch (error) {
        return { status: 'bad-header', error: error as ProtocolError };
      }
    }
    if (this.#bodyLength === null || this.#buffer.length < FRAME_HEADER_BYTES + this.#bodyLength)
      return { status: 'incomplete' };
    if (this.#buffer.length > FRAME_HEADER_BYTES + this.#bodyLength) return { status: 'overrun' };
    const frame = this.#buffer;
    this.#buffer = new Uint8Array(0);
    this.#bodyLength = null;
    return { status: 'complete', frame };
  }

  /** Wipes and drops what is held (the connection closed, or failed). */
  wipe(): void {
    this.#buffer.fill(0);
    this.#buffer = new Uint8Array(0);
    this.#bodyLength = null;
  }
}
