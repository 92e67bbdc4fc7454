/**
 * What a person typed at the lock screen, normalised once per charset (docs/offline-pins.md
 * "What the agent accepts") however many pools it is checked against and whether or not it
 * becomes a wrong-PIN tag, and wiped in one place when the decision is made.
 */
import { wipe } from '../../protocol/bytes.js';
import { normalizePinInput, type PinCharset } from '../../protocol/offline-pin.js';

export class TypedPin {
  readonly #forms = new Map<PinCharset, Uint8Array | null>();

  /** `raw` stays the caller's: it is read, never changed or wiped here. */
  constructor(private readonly raw: Uint8Array) {}

  /** The input as `charset` reads it, or null when it is malformed for that charset. */
  as(charset: PinCharset): Uint8Array | null {
    let form = this.#forms.get(charset);
    if (form === undefined) {
      form = normalizePinInput(this.raw, charset);
      this.#forms.set(charset, form);
    }
    return form;
  }

  /** What the wrong-PIN tag is taken over: the alphanumeric reading (which also folds I/L/O and case), else the raw bytes. */
  canonical(): Uint8Array {
    return this.as('alphanumeric') ?? this.raw;
  }

  wipe(): void {
    for (const form of this.#forms.values()) wipe(form);
    this.#forms.clear();
  }
}
