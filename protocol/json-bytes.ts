/**
 * JSON read from bytes, strictly: bytes that are not UTF-8 are refused rather than read with
 * U+FFFD in their place, so what is validated is exactly what was sent or stored. A leading
 * byte-order mark is dropped, as TextDecoder does by default. The caller says what failed.
 */

const decoder = new TextDecoder('utf-8', { fatal: true });

export type JsonBytes = { readonly ok: true; readonly value: unknown } | { readonly ok: false };

export function parseJsonBytes(bytes: Uint8Array): JsonBytes {
  try {
    return { ok: true, value: JSON.parse(decoder.decode(bytes)) };
  } catch {
    return { ok: false };
  }
}
