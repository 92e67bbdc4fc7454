/**
 * Discovery without tracking (docs/ble-protocol.md §2): the rotating tag a phone advertises,
 * the advertising data that carries it, and the workstation's matcher.
 */
import { concatBytes, utf8 } from '../../protocol/bytes.js';
import { COMPANY_ID_TEST, DEFAULT_SLOT_TOLERANCE, PAIRING_KEY_BYTES, PROTOCOL_LABEL } from './constants.js';
import { SLOT_SECONDS, TAG_BYTES, TAG_MARKER } from './constants.js';
import { equalBytes, hkdfSha256, hmacSha256 } from '../../protocol/crypto/hashes.js';

const EMPTY = new Uint8Array(0);
const AD_FLAGS = Uint8Array.of(0x02, 0x01, 0x06); // LE General Discoverable, BR/EDR not supported
const AD_TYPE_MANUFACTURER = 0xff;
/** Company id (2, little-endian) + marker (3) + tag (16). */
export const MANUFACTURER_DATA_BYTES = 2 + TAG_MARKER.length + TAG_BYTES;
export const ADVERTISING_DATA_BYTES = AD_FLAGS.length + 2 + MANUFACTURER_DATA_BYTES;

function checkPairingKey(pairingKey: Uint8Array): void {
  if (!(pairingKey instanceof Uint8Array)) throw new TypeError('pairingKey must be a Uint8Array');
  if (pairingKey.length !== PAIRING_KEY_BYTES)
    throw new RangeError(`pairingKey must be ${PAIRING_KEY_BYTES} bytes (got ${pairingKey.length})`);
}

/** tagKey = HKDF(PK, "", "latchkey-ble/1 tag", 32) (§1). */
export function deriveTagKey(pairingKey: Uint8Array): Uint8Array {
  checkPairingKey(pairingKey);
  return hkdfSha256(pairingKey, EMPTY, utf8(`${PROTOCOL_LABEL} tag`), 32);
}

/** sessionSalt = HKDF(PK, "", "latchkey-ble/1 session", 32) (§1). */
export function deriveSessionSalt(pairingKey: Uint8Array): Uint8Array {
  checkPairingKey(pairingKey);
  return hkdfSha256(pairingKey, EMPTY, utf8(`${PROTOCOL_LABEL} session`), 32);
}

/** The 10-minute slot of a wall-clock time in milliseconds. */
export function slotAt(unixMs: number): number {
  if (!Number.isFinite(unixMs) || unixMs < 0)
    throw new RangeError(`unixMs must be a non-negative time (got ${unixMs})`);
  return Math.floor(unixMs / 1000 / SLOT_SECONDS);
}

/** tag = HMAC-SHA-256(tagKey, uint64_be(slot))[0..16) (§2). */
export function rotatingTag(tagKey: Uint8Array, slot: number): Uint8Array {
  if (!Number.isSafeInteger(slot) || slot < 0)
    throw new RangeError(`slot must be a non-negative integer (got ${slot})`);
  const counter = new Uint8Array(8);
  const view = new DataView(counter.buffer);
  view.setUint32(0, Math.floor(slot / 2 ** 32));
  view.setUint32(4, slot >>> 0);
  return hmacSha256(tagKey, counter).subarray(0, TAG_BYTES);
}

/** The advertising data (26 bytes) for a tag. */
export function encodeAdvertisingData(tag: Uint8Array): Uint8Array {
  if (tag.length !== TAG_BYTES) throw new RangeError(`tag must be ${TAG_BYTES} bytes (got ${tag.length})`);
  const company = Uint8Array.of(COMPANY_ID_TEST & 0xff, COMPANY_ID_TEST >> 8);
  return concatBytes(
    AD_FLAGS,
    Uint8Array.of(1 + MANUFACTURER_DATA_BYTES, AD_TYPE_MANUFACTURER),
    company,
    TAG_MARKER,
    tag,
  );
}

/** The tag inside manufacturer-specific data (company id first, as noble reports it), or null. */
export function tagFromManufacturerData(data: Uint8Array): Uint8Array | null {
  if (data.length !== MANUFACTURER_DATA_BYTES) return null;
  if (data[0] !== (COMPANY_ID_TEST & 0xff) || data[1] !== COMPANY_ID_TEST >> 8) return null;
  if (!equalBytes(data.subarray(2, 2 + TAG_MARKER.length), TAG_MARKER)) return null;
  return data.slice(2 + TAG_MARKER.length);
}

/** The tag inside raw advertising data (AD structures), or null. Never reads past the end. */
export function tagFromAdvertisingData(ad: Uint8Array): Uint8Array | null {
  let offset = 0;
  while (offset < ad.length) {
    const length = ad[offset]!;
    if (length === 0 || offset + 1 + length > ad.length) return null;
    if (ad[offset + 1] === AD_TYPE_MANUFACTURER) {
      const tag = tagFromManufacturerData(ad.subarray(offset + 2, offset + 1 + length));
      if (tag) return tag;
    }
    offset += 1 + length;
  }
  return null;
}

/**
 * Recognises the tags of known pairings within ±tolerance slots (§2). Tags are computed once per
 * slot and cached, so matching an advertisement is a few comparisons.
 */
export class TagMatcher<Id> {
  readonly #entries: { readonly id: Id; readonly tagKey: Uint8Array }[];
  readonly #tolerance: number;
  #cachedSlot = -1;
  #cached: { readonly id: Id; readonly tag: Uint8Array; readonly slot: number }[] = [];

  constructor(
    pairings: readonly { readonly id: Id; readonly tagKey: Uint8Array }[],
    tolerance = DEFAULT_SLOT_TOLERANCE,
  ) {
    if (!Number.isInteger(tolerance) || tolerance < 0 || tolerance > 144)
      throw new RangeError(`tolerance must be 0–144 slots (got ${tolerance})`);
    this.#entries = [...pairings];
    this.#tolerance = tolerance;
  }

  /** The pairing whose tag this is at `nowMs`, with the slot it belongs to, or null. */
  match(tag: Uint8Array, nowMs: number): { readonly id: Id; readonly slot: number } | null {
    const slot = slotAt(nowMs);
    if (slot !== this.#cachedSlot) {
      this.#cached = [];
      for (const { id, tagKey } of this.#entries) {
        for (let s = Math.max(0, slot - this.#tolerance); s <= slot + this.#tolerance; s++)
          this.#cached.push({ id, tag: rotatingTag(tagKey, s), slot: s });
      }
      this.#cachedSlot = slot;
    }
    for (const entry of this.#cached) if (equalBytes(entry.tag, tag)) return { id: entry.id, slot: entry.slot };
    return null;
  }
}
