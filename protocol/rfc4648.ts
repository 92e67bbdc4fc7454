/**
 * The decoding loop RFC 4648 base32 (§6) and base64url (§5) share: each symbol's bits appended,
 * most significant first, a byte taken whenever eight are there. It says which rule a text broke
 * and leaves the wording to each format (protocol/base32.ts, protocol/online/base64url.ts).
 */

/** An alphabet of 2^bits symbols and the value of each. */
export interface SymbolAlphabet {
  readonly bits: number;
  readonly values: ReadonlyMap<string, number>;
}

export function alphabetOf(symbols: string): SymbolAlphabet {
  return { bits: Math.log2(symbols.length), values: new Map([...symbols].map((char, index) => [char, index])) };
}

export type SymbolDecoding =
  | { ok: true; bytes: Uint8Array }
  /** `character`: outside the alphabet; `length`: a whole symbol left over; `trailing-bits`: leftover bits not zero. */
  | { ok: false; problem: 'character' | 'length' | 'trailing-bits' };

/** Strict: no length or trailing bits an encoder never makes. */
export function decodeSymbols(text: string, alphabet: SymbolAlphabet): SymbolDecoding {
  const out = new Uint8Array(Math.floor((text.length * alphabet.bits) / 8));
  let bits = 0;
  let buffer = 0;
  let index = 0;
  for (const char of text) {
    const value = alphabet.values.get(char);
    if (value === undefined) return { ok: false, problem: 'character' };
    buffer = (buffer << alphabet.bits) | value;
    bits += alphabet.bits;
    if (bits >= 8) {
      bits -= 8;
      out[index++] = (buffer >> bits) & 0xff;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits >= alphabet.bits) return { ok: false, problem: 'length' };
  if (buffer !== 0) return { ok: false, problem: 'trailing-bits' };
  return { ok: true, bytes: out };
}
