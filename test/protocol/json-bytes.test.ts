import { describe, expect, it } from 'vitest';
import { parseJsonBytes } from '../../protocol/json-bytes.js';

const bytes = (...values: number[]) => new Uint8Array(values);
const text = (value: string) => new TextEncoder().encode(value);

describe('parseJsonBytes', () => {
  it('reads any JSON value from UTF-8', () => {
    expect(parseJsonBytes(text('{"user":"zoë","n":[1,null]}'))).toEqual({
      ok: true,
      value: { user: 'zoë', n: [1, null] },
    });
    expect(parseJsonBytes(text('null'))).toEqual({ ok: true, value: null });
  });

  it('drops a leading byte-order mark', () => {
    expect(parseJsonBytes(bytes(0xef, 0xbb, 0xbf, 0x31))).toEqual({ ok: true, value: 1 });
  });

  it.each([
    ['invalid UTF-8 inside a string', bytes(0x22, 0xff, 0x22)],
    ['a truncated UTF-8 sequence', bytes(0x22, 0xc3, 0x22)],
    ['not JSON', text('{user:1}')],
    ['nothing', bytes()],
  ])('refuses %s', (_, input) => {
    expect(parseJsonBytes(input)).toEqual({ ok: false });
  });
});
