import { describe, expect, it } from 'vitest';
import { toHex } from '../../../protocol/bytes.js';
import { deriveSessionSalt, deriveTagKey, encodeAdvertisingData, rotatingTag } from '../../../ble/protocol/tag.js';
import { slotAt, tagFromAdvertisingData, tagFromManufacturerData, TagMatcher } from '../../../ble/protocol/tag.js';
import { hex, vectors } from './vectors.js';

describe('rotating tag (docs/ble-protocol.md §2)', () => {
  it('matches the Python vectors: tag key, session salt, tag, advertising data', () => {
    for (const v of vectors.tags) {
      const tagKey = deriveTagKey(hex(v.pairingKey));
      expect(toHex(tagKey)).toBe(v.tagKey);
      expect(toHex(deriveSessionSalt(hex(v.pairingKey)))).toBe(v.sessionSalt);
      const tag = rotatingTag(tagKey, v.slot);
      expect(toHex(tag)).toBe(v.tag);
      expect(toHex(encodeAdvertisingData(tag))).toBe(v.advertisingData);
      expect(toHex(tagFromManufacturerData(hex(v.manufacturerData))!)).toBe(v.tag);
      expect(toHex(tagFromAdvertisingData(hex(v.advertisingData))!)).toBe(v.tag);
    }
  });

  it('fits the 31-byte legacy advertising payload and changes every 10-minute slot', () => {
    const key = deriveTagKey(hex(vectors.tags[0]!.pairingKey));
    expect(encodeAdvertisingData(rotatingTag(key, 1)).length).toBeLessThanOrEqual(31);
    expect(slotAt(599_999)).toBe(0);
    expect(slotAt(600_000)).toBe(1);
    expect(toHex(rotatingTag(key, 1))).not.toBe(toHex(rotatingTag(key, 2)));
  });

  it('recognises a paired phone within ±1 slot and nobody else', () => {
    const a = deriveTagKey(hex(vectors.tags[0]!.pairingKey));
    const b = deriveTagKey(hex(vectors.tags[2]!.pairingKey));
    const matcher = new TagMatcher([
      { id: 'a', tagKey: a },
      { id: 'b', tagKey: b },
    ]);
    const now = vectors.handshake.unixMs;
    const slot = slotAt(now);
    expect(matcher.match(rotatingTag(a, slot), now)).toEqual({ id: 'a', slot });
    expect(matcher.match(rotatingTag(b, slot - 1), now)).toEqual({ id: 'b', slot: slot - 1 });
    expect(matcher.match(rotatingTag(a, slot + 1), now)).toEqual({ id: 'a', slot: slot + 1 });
    expect(matcher.match(rotatingTag(a, slot + 2), now)).toBeNull();
    expect(matcher.match(rotatingTag(deriveTagKey(new Uint8Array(32)), slot), now)).toBeNull();
    expect(new TagMatcher([{ id: 'a', tagKey: a }], 3).match(rotatingTag(a, slot - 3), now)).toEqual({
      id: 'a',
      slot: slot - 3,
    });
  });

  it('reads no tag from foreign or truncated advertising data, and never reads past the end', () => {
    expect(tagFromAdvertisingData(hex('020106'))).toBeNull();
    expect(tagFromAdvertisingData(hex('0201061aff'))).toBeNull();
    expect(tagFromAdvertisingData(hex('00'))).toBeNull();
    const ad = hex(vectors.tags[0]!.advertisingData);
    expect(tagFromAdvertisingData(ad.subarray(0, ad.length - 1))).toBeNull();
    const apple = ad.slice();
    apple[5] = 0x4c;
    apple[6] = 0x00;
    expect(tagFromAdvertisingData(apple)).toBeNull();
    expect(tagFromManufacturerData(hex(`ffff4c4b02${'00'.repeat(16)}`))).toBeNull();
  });

  it('names bad parameters', () => {
    expect(() => deriveTagKey(new Uint8Array(16))).toThrow(/pairingKey must be 32 bytes/);
    expect(() => rotatingTag(new Uint8Array(32), -1)).toThrow(RangeError);
    expect(() => new TagMatcher([], -1)).toThrow(/tolerance/);
  });
});
