/**
 * Framing and fragmentation (docs/ble-protocol.md §4): a message of up to 512 bytes travels as
 * fragments of at most ATT_MTU − 3 bytes. Pure: the caller passes the clock reading.
 */
import { ATT_HEADER_BYTES, FIRST_FRAGMENT_HEADER_BYTES, FRAGMENT_HEADER_BYTES } from './constants.js';
import { FRAGMENT_TIMEOUT_MS, MAX_ATT_VALUE_BYTES, MAX_MESSAGE_BYTES, MIN_ATT_MTU } from './constants.js';
import { MIN_MESSAGE_BYTES } from './constants.js';
import { BleProtocolError } from './errors.js';

/** The largest fragment (ATT value) for a negotiated ATT_MTU. */
export function maxFragmentBytes(attMtu: number): number {
  if (!Number.isInteger(attMtu) || attMtu < MIN_ATT_MTU)
    throw new RangeError(`attMtu must be an integer ≥ ${MIN_ATT_MTU} (got ${attMtu})`);
  return Math.min(attMtu - ATT_HEADER_BYTES, MAX_ATT_VALUE_BYTES);
}

/** Cuts one message into fragments, filling each but the last. */
export function fragmentMessage(message: Uint8Array, messageId: number, attMtu: number): Uint8Array[] {
  if (!Number.isInteger(messageId) || messageId < 0 || messageId > 0xff)
    throw new RangeError(`messageId must be 0–255 (got ${messageId})`);
  if (message.length < MIN_MESSAGE_BYTES || message.length > MAX_MESSAGE_BYTES) {
    throw new RangeError(`message must be ${MIN_MESSAGE_BYTES}–${MAX_MESSAGE_BYTES} bytes (got ${message.length})`);
  }
  const limit = maxFragmentBytes(attMtu);
  const fragments: Uint8Array[] = [];
  let offset = 0;
  for (let index = 0; offset < message.length; index++) {
    const header = index === 0 ? FIRST_FRAGMENT_HEADER_BYTES : FRAGMENT_HEADER_BYTES;
    const take = Math.min(limit - header, message.length - offset);
    const fragment = new Uint8Array(header + take);
    fragment[0] = messageId;
    fragment[1] = index;
    if (index === 0) {
      fragment[2] = message.length >> 8;
      fragment[3] = message.length & 0xff;
    }
    fragment.set(message.subarray(offset, offset + take), header);
    fragments.push(fragment);
    offset += take;
  }
  return fragments;
}

/** Numbers the messages of one direction of one connection (ids start at 0, §4). */
export class Fragmenter {
  #nextId = 0;
  constructor(private readonly attMtu: number) {
    maxFragmentBytes(attMtu);
  }

  fragment(message: Uint8Array): Uint8Array[] {
    const fragments = fragmentMessage(message, this.#nextId, this.attMtu);
    this.#nextId = (this.#nextId + 1) & 0xff;
    return fragments;
  }
}

interface Partial {
  readonly id: number;
  readonly bytes: Uint8Array;
  filled: number;
  nextIndex: number;
}

/**
 * Reassembles one direction of one connection. Accepts exactly one order — the expected message
 * id, fragments 0, 1, 2, … — and refuses everything else with a typed error. Once it has
 * thrown it stays failed: every later call throws the same error (fail closed).
 */
export class Reassembler {
  readonly #maxFragment: number;
  readonly #timeoutMs: number;
  #expectedId = 0;
  #partial: Partial | null = null;
  #lastFragmentAt = 0;
  #failure: BleProtocolError | null = null;

  constructor(attMtu: number, options: { fragmentTimeoutMs?: number } = {}) {
    this.#maxFragment = maxFragmentBytes(attMtu);
    this.#timeoutMs = options.fragmentTimeoutMs ?? FRAGMENT_TIMEOUT_MS;
  }

  get failure(): BleProtocolError | null {
    return this.#failure;
  }

  /** When a message is half-received: the time by which its next fragment must arrive. */
  get deadline(): number | null {
    return this.#partial ? this.#lastFragmentAt + this.#timeoutMs : null;
  }

  /** Fails with `reassembly-timeout` if a message is half-received and its deadline has passed. */
  checkTimeout(nowMs: number): void {
    if (this.#failure) throw this.#failure;
    const deadline = this.deadline;
    if (deadline !== null && nowMs > deadline)
      this.#fail(
        'reassembly-timeout',
        `no fragment for ${nowMs - this.#lastFragmentAt} ms in the middle of message ${this.#partial!.id}`,
      );
  }

  /** Feeds one fragment; returns the message it completes, or null while more are due. */
  push(fragment: Uint8Array, nowMs: number): Uint8Array | null {
    this.checkTimeout(nowMs);
    if (fragment.length > this.#maxFragment)
      this.#fail(
        'fragment-too-large',
        `fragment of ${fragment.length} bytes is over the limit of ${this.#maxFragment}`,
      );
    if (fragment.length < FRAGMENT_HEADER_BYTES)
      this.#fail('fragment-malformed', `fragment of ${fragment.length} bytes has no room for its header`);
    const id = fragment[0]!;
    const index = fragment[1]!;
    const partial = this.#partial;
    if (partial === null) {
      if (id !== this.#expectedId)
        this.#fail('message-out-of-order', `message ${id} where message ${this.#expectedId} was expected`);
      if (index !== 0) this.#fail('fragment-gap', `fragment ${index} of message ${id} arrived before fragment 0`);
      return this.#start(fragment, id, nowMs);
    }
    if (id !== partial.id) this.#fail('message-out-of-order', `message ${id} interleaved with message ${partial.id}`);
    if (index < partial.nextIndex) this.#fail('fragment-duplicate', `fragment ${index} of message ${id} arrived twice`);
    if (index > partial.nextIndex)
      this.#fail('fragment-gap', `fragment ${index} of message ${id} where fragment ${partial.nextIndex} was expected`);
    return this.#append(partial, fragment.subarray(FRAGMENT_HEADER_BYTES), nowMs);
  }

  #start(fragment: Uint8Array, id: number, nowMs: number): Uint8Array | null {
    if (fragment.length < FIRST_FRAGMENT_HEADER_BYTES)
      this.#fail('fragment-malformed', `first fragment of ${fragment.length} bytes has no room for the message length`);
    const total = (fragment[2]! << 8) | fragment[3]!;
    if (total > MAX_MESSAGE_BYTES)
      this.#fail('message-too-large', `message ${id} declares ${total} bytes, over the limit of ${MAX_MESSAGE_BYTES}`);
    if (total < MIN_MESSAGE_BYTES)
      this.#fail(
        'fragment-malformed',
        `message ${id} declares ${total} bytes, under the minimum of ${MIN_MESSAGE_BYTES}`,
      );
    const partial: Partial = { id, bytes: new Uint8Array(total), filled: 0, nextIndex: 0 };
    this.#partial = partial;
    return this.#append(partial, fragment.subarray(FIRST_FRAGMENT_HEADER_BYTES), nowMs);
  }

  #append(partial: Partial, payload: Uint8Array, nowMs: number): Uint8Array | null {
    if (payload.length === 0)
      this.#fail('fragment-malformed', `fragment ${partial.nextIndex} of message ${partial.id} carries no payload`);
    if (payload.length > partial.bytes.length - partial.filled) {
      this.#fail(
        'message-overrun',
        `fragment ${partial.nextIndex} of message ${partial.id} runs past the declared ${partial.bytes.length} bytes`,
      );
    }
    partial.bytes.set(payload, partial.filled);
    partial.filled += payload.length;
    partial.nextIndex += 1;
    this.#lastFragmentAt = nowMs;
    if (partial.filled < partial.bytes.length) {
      if (partial.nextIndex > 0xff)
        this.#fail('fragment-malformed', `message ${partial.id} needs more than 256 fragments`);
      return null;
    }
    this.#partial = null;
    this.#expectedId = (this.#expectedId + 1) & 0xff;
    return partial.bytes;
  }

  #fail(code: BleProtocolError['code'], message: string): never {
    this.#failure = new BleProtocolError(code, message);
    this.#partial = null;
    throw this.#failure;
  }
}
