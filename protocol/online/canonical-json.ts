/**
 * Canonical JSON (docs/online-protocol.md "Canonical JSON and transcripts"): object keys sorted
 * by code point at every level, no whitespace, safe integers only. What is signed is always
 * `label || "\n" || canonicalJson(object)`.
 */
export type CanonicalValue = string | number | boolean | null | CanonicalValue[] | { [key: string]: CanonicalValue };

export function canonicalJson(value: CanonicalValue): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || Object.is(value, -0))
      throw new RangeError('canonical JSON carries safe integers only');
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${keys
    .filter((key) => value[key] !== undefined)
    .map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key]!)}`)
    .join(',')}}`;
}

const encoder = new TextEncoder();

/** The bytes that are signed or MACed for `label` and `object`. */
export function transcript(label: string, object: CanonicalValue): Uint8Array {
  if (!/^latchkey-[a-z-]+-v\d+$/.test(label)) throw new RangeError(`not a transcript label: ${label}`);
  return encoder.encode(`${label}\n${canonicalJson(object)}`);
}
