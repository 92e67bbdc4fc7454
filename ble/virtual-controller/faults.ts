/**
 * Fault injection (docs/ble-virtual-controller.md "Faults"): rules matched against each ATT PDU
 * as it crosses the air, plus connection failures. A rule fires a set number of times.
 */
import type { LinkDirection } from './att.js';

/** One ATT PDU crossing the air, as fault rules see it. */
export interface AttPduView {
  readonly connectionId: number;
  /** Port names of the sender and the receiver. */
  readonly from: string;
  readonly to: string;
  readonly direction: LinkDirection;
  /** Index of this ATT PDU among those sent in this direction on this connection (0-based). */
  readonly index: number;
  readonly opcode: number;
  /** The ATT PDU (opcode first), without the L2CAP header. */
  readonly att: Uint8Array;
}

export type FaultAction =
  | { readonly kind: 'drop' }
  | { readonly kind: 'delay'; readonly ms: number }
  | { readonly kind: 'mutate'; readonly mutate: (att: Uint8Array) => Uint8Array }
  | { readonly kind: 'duplicate' }
  /** Reorder: hold this PDU back and deliver it right after the next PDU in the same direction. */
  | { readonly kind: 'hold-until-next' }
  /** Cut the link (supervision timeout on both sides) instead of delivering this PDU. */
  | { readonly kind: 'disconnect'; readonly reason?: number };

export interface FaultRule {
  readonly match: (pdu: AttPduView) => boolean;
  readonly action: FaultAction;
  /** How many more times the rule fires. */
  remaining: number;
  /** How many times it fired. */
  fired: number;
}

export class Faults {
  #rules: FaultRule[] = [];
  #connectionFailures: number[] = [];
  #connectDelayMs = 0;

  /** Adds a rule; `times` defaults to once. Returns the rule so a test can read `fired`. */
  onAtt(match: (pdu: AttPduView) => boolean, action: FaultAction, times = 1): FaultRule {
    if (!Number.isInteger(times) || times < 1) throw new RangeError(`times must be a positive integer (got ${times})`);
    const rule: FaultRule = { match, action, remaining: times, fired: 0 };
    this.#rules.push(rule);
    return rule;
  }

  /** The next `count` LE Create Connection attempts complete with `status` (default 0x3E). */
  failConnections(count = 1, status = 0x3e): void {
    for (let i = 0; i < count; i++) this.#connectionFailures.push(status);
  }

  /** Delay between LE Create Connection and LE Connection Complete. */
  set connectDelayMs(ms: number) {
    if (!(ms >= 0)) throw new RangeError(`connectDelayMs must be ≥ 0 (got ${ms})`);
    this.#connectDelayMs = ms;
  }

  get connectDelayMs(): number {
    return this.#connectDelayMs;
  }

  clear(): void {
    this.#rules = [];
    this.#connectionFailures = [];
    this.#connectDelayMs = 0;
  }

  /** @internal The failure status for this connection attempt, or null. */
  takeConnectionFailure(): number | null {
    return this.#connectionFailures.shift() ?? null;
  }

  /** @internal The action of the first live rule that matches, if any. */
  decide(pdu: AttPduView): FaultAction | null {
    for (const rule of this.#rules) {
      if (rule.remaining > 0 && rule.match(pdu)) {
        rule.remaining -= 1;
        rule.fired += 1;
        return rule.action;
      }
    }
    return null;
  }
}
