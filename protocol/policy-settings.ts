/**
 * Workstation Settings (docs/configuration.md "policy"): the names, defaults and ranges shared
 * by the agent's config file, the Control Center and signed policies. One schema, one place
 * for the ranges. Pure.
 */
import * as v from 'valibot';
import { PIN_LENGTH_RANGE, type PinCharset } from './offline-pin.js';

export interface Policy {
  readonly offlineMode: boolean;
  readonly pinCount: number;
  readonly pinLength: number;
  readonly pinCharset: PinCharset;
  readonly offlineAccessDays: number;
  readonly lowPinWarnPercent: number;
  /** An admin can reveal a one-time recovery PIN (needs a Control Center: docs/online-protocol.md). */
  readonly recoveryPin: boolean;
  /** A user may pair their own phone online with their password (docs/security.md); root always may. */
  readonly selfPairing: boolean;
  /** How long the phone shows an offline PIN before hiding it, in seconds (HYPR's "PIN display timeout"). */
  readonly pinDisplaySeconds: number;
}

export const DEFAULT_POLICY: Policy = Object.freeze({
  offlineMode: false,
  pinCount: 25,
  pinLength: 8,
  pinCharset: 'alphanumeric',
  offlineAccessDays: 30,
  lowPinWarnPercent: 20,
  recoveryPin: false,
  selfPairing: true,
  pinDisplaySeconds: 60,
});

export const POLICY_RANGES = {
  pinCount: [10, 100],
  pinLength: [6, 13],
  offlineAccessDays: [7, 90],
  lowPinWarnPercent: [0, 100],
  pinDisplaySeconds: [10, 300],
} as const;

/** An integer schema whose every failure names the allowed range. */
export function intRange(min: number, max: number) {
  const message = `must be an integer from ${min} to ${max}`;
  return v.pipe(v.number(message), v.integer(message), v.minValue(min, message), v.maxValue(max, message));
}

export const PolicyInputSchema = v.pipe(
  v.strictObject(
    {
      offlineMode: v.optional(v.boolean('must be true or false')),
      pinCount: v.optional(intRange(...POLICY_RANGES.pinCount)),
      pinLength: v.optional(intRange(...POLICY_RANGES.pinLength)),
      pinCharset: v.optional(v.picklist(['alphanumeric', 'numeric'], 'must be "alphanumeric" or "numeric"')),
      offlineAccessDays: v.optional(intRange(...POLICY_RANGES.offlineAccessDays)),
      lowPinWarnPercent: v.optional(intRange(...POLICY_RANGES.lowPinWarnPercent)),
      recoveryPin: v.optional(v.boolean('must be true or false')),
      selfPairing: v.optional(v.boolean('must be true or false')),
      // Absent from policies signed before it existed: they keep verifying, with the default.
      pinDisplaySeconds: v.optional(intRange(...POLICY_RANGES.pinDisplaySeconds)),
    },
    'must be an object',
  ),
  v.transform((input): Policy => ({ ...DEFAULT_POLICY, ...input })),
  v.check((policy) => {
    const [min, max] = PIN_LENGTH_RANGE[policy.pinCharset];
    return policy.pinLength >= min && policy.pinLength <= max;
  }, 'pinLength must be from 6 to 8 when pinCharset is "numeric"'),
);

/** True when `remaining` is at or below the policy's warning share of a pool of `pinCount`. */
export function isLow(remaining: number, pinCount: number, policy: Policy): boolean {
  return remaining * 100 <= policy.lowPinWarnPercent * pinCount;
}

export const DAY_MS = 24 * 60 * 60 * 1000;
