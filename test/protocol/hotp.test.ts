import { describe, expect, it } from 'vitest';
import { hotp, hotpTruncated } from '../../protocol/hotp.js';
import { utf8 } from '../../protocol/bytes.js';

// RFC 4226 Appendix D: secret "12345678901234567890".
const SECRET = utf8('12345678901234567890');
const TRUNCATED = [
  1284755224, 1094287082, 137359152, 1726969429, 1640338314, 868254676, 1918287922, 82162583, 673399871, 645520489,
];
const HOTP6 = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];

describe('RFC 4226 HOTP', () => {
  it('matches the Appendix D truncated values and 6-digit codes', () => {
    for (let counter = 0; counter < 10; counter++) {
      expect(hotpTruncated(SECRET, counter)).toBe(TRUNCATED[counter]);
      expect(String.fromCharCode(...hotp(SECRET, counter, 6))).toBe(HOTP6[counter]);
    }
  });

  it('refuses digit counts outside 6–8 with a RangeError naming the parameter', () => {
    expect(() => hotp(SECRET, 0, 5)).toThrow(RangeError);
    expect(() => hotp(SECRET, 0, 9)).toThrow(/digits/);
  });
});
