/**
 * Splits an H4 byte stream (a pseudo-terminal or UART) into whole HCI packets. A byte that is
 * not a known packet type is skipped and counted, so a garbled stream resynchronises.
 */
import { H4 } from './hci.js';

const MAX_BUFFER = 64 * 1024;

export class H4Splitter {
  #buffer = new Uint8Array(0);
  /** Bytes skipped because they did not start a known packet. */
  skipped = 0;

  /** Feeds bytes; returns the complete packets they finish, each with its type byte. */
  push(chunk: Uint8Array): Uint8Array[] {
    const joined = new Uint8Array(this.#buffer.length + chunk.length);
    joined.set(this.#buffer);
    joined.set(chunk, this.#buffer.length);
    const packets: Uint8Array[] = [];
    let offset = 0;
    while (offset < joined.length) {
      const length = packetLength(joined, offset);
      if (length === -1) {
        offset += 1;
        this.skipped += 1;
        continue;
      }
      if (length === 0 || offset + length > joined.length) break;
      packets.push(joined.slice(offset, offset + length));
      offset += length;
    }
    this.#buffer = joined.slice(offset);
    if (this.#buffer.length > MAX_BUFFER) {
      this.skipped += this.#buffer.length;
      this.#buffer = new Uint8Array(0);
    }
    return packets;
  }
}

/** Total length of the packet starting at `offset`, 0 if its header is incomplete, -1 for an unknown type. */
function packetLength(bytes: Uint8Array, offset: number): number {
  const available = bytes.length - offset;
  switch (bytes[offset]) {
    case H4.command:
      return available < 4 ? 0 : 4 + bytes[offset + 3]!;
    case H4.event:
      return available < 3 ? 0 : 3 + bytes[offset + 2]!;
    case H4.acl:
      return available < 5 ? 0 : 5 + (bytes[offset + 3]! | (bytes[offset + 4]! << 8));
    default:
      return -1;
  }
}
