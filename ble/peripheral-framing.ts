/**
 * The phone's half of the framing on one connection (docs/ble-protocol.md §4): the workstation
 * enables notifications first, which fixes the MTU; then control-point writes reassemble into
 * messages and messages go back as notified fragments. Shared by the unlock and pairing sessions.
 */
import { performance } from 'node:perf_hooks';
import { BleProtocolError } from './protocol/errors.js';
import { Fragmenter, Reassembler } from './protocol/framing.js';
import { encodeError, ErrorCode } from './protocol/message-codec.js';

export class PeripheralFraming {
  #notify: ((fragment: Uint8Array) => void) | null = null;
  #reassembler: Reassembler | null = null;
  #fragmenter: Fragmenter | null = null;

  /** Notifications are on: maxValueSize = ATT_MTU − 3. A second subscription keeps the first MTU. */
  subscribed(maxValueSize: number, notify: (fragment: Uint8Array) => void): void {
    this.#notify = notify;
    this.#reassembler ??= new Reassembler(maxValueSize + 3);
    this.#fragmenter ??= new Fragmenter(maxValueSize + 3);
  }

  /** False until the workstation enabled notifications: a write before that is a protocol error. */
  get ready(): boolean {
    return this.#reassembler !== null;
  }

  /**
   * One control-point write for a session: the whole message once complete, else null. A write the
   * framing refuses goes to `fail` with the ERROR to answer (bad-message once notifications are on,
   * none before: there is nothing to notify it on).
   */
  receive(fragment: Uint8Array, fail: (error: unknown, reply: Uint8Array | null) => void): Uint8Array | null {
    try {
      return this.push(fragment);
    } catch (error) {
      fail(error, this.ready ? encodeError(ErrorCode.badMessage) : null);
      return null;
    }
  }

  /** One write: the whole message once its last fragment is in, else null. Throws BleProtocolError. */
  push(fragment: Uint8Array): Uint8Array | null {
    if (!this.#reassembler)
      throw new BleProtocolError('unexpected-message', 'the workstation wrote before enabling notifications');
    return this.#reassembler.push(fragment, performance.now());
  }

  /** Milliseconds until a half-received message times out, or null when none is half-received. */
  msToDeadline(): number | null {
    const deadline = this.#reassembler?.deadline ?? null;
    return deadline === null ? null : deadline - performance.now();
  }

  /** Throws the fragment timeout when the half-received message is past its deadline. */
  checkTimeout(): void {
    this.#reassembler?.checkTimeout(performance.now() + 1);
  }

  /** Notifies a message as fragments; nothing before the workstation subscribed. */
  send(message: Uint8Array): void {
    if (!this.#notify || !this.#fragmenter) return;
    for (const fragment of this.#fragmenter.fragment(message)) this.#notify(fragment);
  }
}
