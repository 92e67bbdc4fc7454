/**
 * Values of the radio tools' numeric options, checked when the action runs: a bad one is exit 2
 * with a sentence naming the option (docs/cli.md "Bluetooth"), as it has always been for these.
 */

/** `value` as an integer in min…max, or `fallback` when the option was not given. */
export function integerIn(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new RangeError(`${name} must be an integer in ${min}…${max} (got ${value})`);
  return n;
}
