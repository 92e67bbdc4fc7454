/**
 * Whole messages over a connected, subscribed GATT link (docs/ble-protocol.md §4) for exchanges
 * that are a plain sequence of steps — pairing (§12). `send` fragments and writes; `receive`
 * resolves with the next reassembled message or rejects with the typed failure: a framing
 * error, the fragment timeout, the step's own timeout, or the link going down. Once failed it
 * stays failed (fail closed).
 */
import { performance } from 'node:perf_hooks';
import { BleTransportError } from './errors.js';
import { BleProtocolError } from './protocol/errors.js';
import { Fragmenter, Reassembler } from './protocol/framing.js';
import type { ExchangeLink } from './workstation-exchange.js';

export class MessageChannel {
  readonly #link: ExchangeLink;
  readonly #fragmenter: Fragmenter;
  readonly #reassembler: Reassembler;
  readonly #inbox: Uint8Array[] = [];
  readonly #stops: (() => void)[] = [];
  #waiter: { resolve: (message: Uint8Array) => void; reject: (error: Error) => void } | null = null;
  #failure: Error | null = null;
  #fragmentTimer: NodeJS.Timeout | undefined;

  constructor(link: ExchangeLink) {
    this.#link = link;
    this.#fragmenter = new Fragmenter(link.mtu);
    this.#reassembler = new Reassembler(link.mtu);
    this.#stops.push(
      link.onFragment((fragment) => this.#onFragment(fragment)),
      link.onDisconnect(() =>
        this.#fail(new BleTransportError('disconnected', 'the phone disconnected during the exchange')),
      ),
    );
  }

  async send(message: Uint8Array): Promise<void> {
    if (this.#failure) throw this.#failure;
    for (const fragment of this.#fragmenter.fragment(message)) await this.#link.write(fragment);
  }

  /** The next whole message, within `timeoutMs` of now. */
  receive(timeoutMs: number, onTimeout: () => Error): Promise<Uint8Array> {
    if (this.#failure) return Promise.reject(this.#failure);
    const queued = this.#inbox.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = null;
        reject(onTimeout());
      }, timeoutMs);
      this.#waiter = {
        resolve: (message) => {
          clearTimeout(timer);
          resolve(message);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
    });
  }

  close(): void {
    clearTimeout(this.#fragmentTimer);
    for (const stop of this.#stops.splice(0)) stop();
  }

  #onFragment(fragment: Uint8Array): void {
    if (this.#failure) return;
    let message: Uint8Array | null;
    try {
      message = this.#reassembler.push(fragment, performance.now());
    } catch (error) {
      this.#fail(error as Error);
      return;
    }
    clearTimeout(this.#fragmentTimer);
    const deadline = this.#reassembler.deadline;
    if (deadline !== null) {
      this.#fragmentTimer = setTimeout(
        () => {
          try {
            this.#reassembler.checkTimeout(performance.now() + 1);
          } catch (error) {
            this.#fail(error as Error);
          }
        },
        deadline - performance.now() + 2,
      );
    }
    if (!message) return;
    const waiter = this.#waiter;
    this.#waiter = null;
    if (waiter) waiter.resolve(message);
    else this.#inbox.push(message);
  }

  #fail(error: Error): void {
    if (this.#failure) return;
    this.#failure =
      error instanceof BleProtocolError || error instanceof BleTransportError
        ? error
        : new BleProtocolError('message-malformed', 'internal fault in the channel', { cause: error });
    clearTimeout(this.#fragmentTimer);
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.reject(this.#failure);
  }
}
