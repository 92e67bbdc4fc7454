/**
 * The module's IPC codec (native/pam/ipc-codec.c) against docs/ipc.md: the shared vectors,
 * edge cases of the reply parser, and a differential check against the TypeScript codec the
 * agent uses (protocol/ipc-messages.ts) on generated frames.
 */
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../protocol/bytes.js';
import { ProtocolError } from '../../protocol/errors.js';
import { FRAME_HEADER_BYTES, FrameKind, MAX_REPLY_BODY, MAX_REQUEST_BODY } from '../../protocol/ipc-frame.js';
import { decodeFrameHeader } from '../../protocol/ipc-frame.js';
import { REASONS, decodeReplyBody, decodeRequestBody } from '../../protocol/ipc-messages.js';
import { codecCli, runJson, removeScratchDir } from './helpers/native-tools.js';
import { ipcFrameVectors } from '../vectors/ipc-frames.js';

const vectors = ipcFrameVectors;

interface Parsed {
  result: string;
  reply?: Record<string, unknown>;
}
let cli: string;
beforeAll(() => {
  cli = codecCli();
});

const parse = (hex: string) => runJson<Parsed>(cli, ['parse-reply', hex]);
/** Many frames through one driver process (one hex frame per line). */
function parseMany(hexes: string[]): Parsed[] {
  const out = execFileSync(cli, ['parse-replies'], {
    encoding: 'utf8',
    input: `${hexes.join('\n')}\n`,
    maxBuffer: 64 << 20,
  });
  return out
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Parsed);
}

/** What the TypeScript side makes of a reply frame, in the driver's shape. */
function tsParse(frame: Uint8Array): Parsed {
  try {
    if (frame.length < FRAME_HEADER_BYTES) throw new ProtocolError('bad-frame', 'short');
    const header = decodeFrameHeader(frame.subarray(0, FRAME_HEADER_BYTES), FrameKind.reply, MAX_REPLY_BODY);
    if (frame.length - FRAME_HEADER_BYTES !== header.bodyLength)
      throw new ProtocolError('bad-frame', 'length mismatch');
    const { secret: _secret, detail: _detail, ...reply } = decodeReplyBody(frame.subarray(FRAME_HEADER_BYTES));
    return { result: 'ok', reply };
  } catch (error) {
    if (error instanceof ProtocolError) return { result: error.code };
    throw error;
  }
}

const field = (tag: number, value: Uint8Array | readonly number[]) => {
  const bytes = Uint8Array.from(value as ArrayLike<number>);
  return [tag, bytes.length >> 8, bytes.length & 0xff, ...bytes];
};
const u32 = (v: number) => [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
const text = (s: string) => [...new TextEncoder().encode(s)];
function replyFrame(
  body: number[],
  { magic = [0x4c, 0x4b], version = 1, kind = 2, length = body.length } = {},
): string {
  return toHex(Uint8Array.from([...magic, version, kind, ...u32(length), ...body]));
}
const base = [...field(0x02, u32(5)), ...field(0x10, [2])];

afterAll(() => removeScratchDir());

describe('reply parser against test/vectors/ipc-frames.json', () => {
  it.each(vectors.validReplies!.map((c) => [c.name, c] as const))('valid: %s', (_name, c) => {
    expect(parse(c.hex)).toEqual({ result: 'ok', reply: c.reply });
  });

  it.each(vectors.invalidReplies!.map((c) => [c.name, c] as const))('invalid: %s', (_name, c) => {
    expect(parse(c.hex).result).toBe(c.reason);
  });
});

describe('reasons (docs/ipc.md "Reasons (closed set)")', () => {
  it('the C parser knows every reason the agent can send, and collapses any other to internal-error', () => {
    const withReason = (reason: string) => replyFrame([...base, ...field(0x11, text(reason))]);
    const parsed = parseMany(REASONS.map(withReason));
    expect(parsed.map((p) => (p as { reply?: { reason?: string } }).reply?.reason)).toEqual([...REASONS]);
    expect(parse(withReason('made-up-reason'))).toMatchObject({ result: 'ok', reply: { reason: 'internal-error' } });
  });
});

describe('reply parser edge cases (docs/ipc.md "Frame", "Fields")', () => {
  const cases: [string, string, string][] = [
    ['bad magic', replyFrame(base, { magic: [0x4c, 0x58] }), 'bad-frame'],
    ['version 2', replyFrame(base, { version: 2 }), 'unsupported-version'],
    ['kind request', replyFrame(base, { kind: 1 }), 'bad-frame'],
    [
      'body over 65,536 bytes, refused from the header',
      replyFrame([], { length: MAX_REPLY_BODY + 1 }),
      'frame-too-large',
    ],
    ['length 2^32-1', replyFrame([], { length: 0xffffffff }), 'frame-too-large'],
    ['header only, 7 bytes', replyFrame(base).slice(0, 14), 'bad-frame'],
    ['body shorter than the header says', replyFrame(base, { length: base.length + 1 }), 'bad-frame'],
    ['trailing byte after the body', `${replyFrame(base)}00`, 'bad-frame'],
    ['truncated field header', replyFrame([...base, 0x12, 0x00]), 'bad-frame'],
    ['field overruns the body', replyFrame([...base, 0x12, 0x00, 0x09, 0x61]), 'bad-frame'],
    ['duplicate status', replyFrame([...base, ...field(0x10, [1])]), 'bad-field'],
    [
      'duplicate before a later overrun is still bad-field',
      replyFrame([...base, ...field(0x10, [1]), 0x12, 0, 9]),
      'bad-field',
    ],
    ['unknown tag', replyFrame([...base, ...field(0x7f, [1])]), 'bad-field'],
    ['request tag op', replyFrame([...base, ...field(0x01, [2])]), 'bad-field'],
    ['requestId of 5 bytes', replyFrame([...field(0x02, [0, 0, 0, 0, 1]), ...field(0x10, [2])]), 'bad-field'],
    ['status of 0 bytes', replyFrame([...field(0x02, u32(1)), ...field(0x10, [])]), 'bad-field'],
    ['missing requestId', replyFrame(field(0x10, [1])), 'missing-field'],
    ['empty body', replyFrame([]), 'missing-field'],
    ['overlong NUL in message', replyFrame([...base, ...field(0x12, [0xc0, 0x80])]), 'bad-field'],
    ['surrogate in message', replyFrame([...base, ...field(0x12, [0xed, 0xa0, 0x80])]), 'bad-field'],
    ['code point above U+10FFFF', replyFrame([...base, ...field(0x12, [0xf4, 0x90, 0x80, 0x80])]), 'bad-field'],
    ['cut multi-byte sequence', replyFrame([...base, ...field(0x12, [0x41, 0xe2, 0x80])]), 'bad-field'],
    ['newline in message', replyFrame([...base, ...field(0x12, text('a\nb'))]), 'bad-field'],
    ['DEL in message', replyFrame([...base, ...field(0x12, text('a\x7fb'))]), 'bad-field'],
    ['escape sequence in message', replyFrame([...base, ...field(0x12, text('\x1b[2J'))]), 'bad-field'],
    ['upper-case reason', replyFrame([...base, ...field(0x11, text('Wrong-pin'))]), 'bad-field'],
    ['empty reason', replyFrame([...base, ...field(0x11, [])]), 'bad-field'],
    ['reason of 49 bytes', replyFrame([...base, ...field(0x11, text('a'.repeat(49)))]), 'bad-field'],
    ['retryAfter of 8 bytes', replyFrame([...base, ...field(0x15, [0, 0, 0, 0, 0, 0, 0, 1])]), 'bad-field'],
    ['locked flag of 2', replyFrame([...base, ...field(0x18, [2])]), 'bad-field'],
    ['empty secret', replyFrame([...base, ...field(0x19, [])]), 'bad-field'],
    ['detail of 60,001 bytes', replyFrame([...base, ...field(0x1a, text('a'.repeat(60_001)))]), 'bad-field'],
  ];
  it.each(cases)('%s → %s', (_name, hex, expected) => {
    expect(parse(hex).result).toBe(expected);
    expect(tsParse(fromHex(hex)).result).toBe(expected);
  });

  it('keeps a 512-byte message with multi-byte characters, a 4-byte character and a 60,000-byte detail', () => {
    const message = `${'ü'.repeat(254)}🔑`; // 508 + 4 bytes
    const hex = replyFrame([
      ...base,
      ...field(0x12, text(message)),
      ...field(0x1a, text('x'.repeat(60_000))),
      ...field(0x19, [1]),
    ]);
    expect(parse(hex)).toEqual({ result: 'ok', reply: { requestId: 5, status: 'rejected', message } });
  });

  it('maps an unknown reason to internal-error and an unknown status to error/internal-error (fail closed)', () => {
    expect(parse(replyFrame([...base, ...field(0x11, text('brand-new'))])).reply).toEqual({
      requestId: 5,
      status: 'rejected',
      reason: 'internal-error',
    });
    expect(
      parse(replyFrame([...field(0x02, u32(5)), ...field(0x10, [6]), ...field(0x11, text('wrong-pin'))])).reply,
    ).toEqual({
      requestId: 5,
      status: 'error',
      reason: 'internal-error',
    });
  });

  it('keeps a leading byte-order mark as text: a reason starting with one is refused, a message keeps it', () => {
    const bomReason = replyFrame([...base, ...field(0x11, [0xef, 0xbb, 0xbf, ...text('wrong-pin')])]);
    expect(parse(bomReason).result).toBe('bad-field');
    expect(tsParse(fromHex(bomReason)).result).toBe('bad-field');
    const bomMessage = replyFrame([...base, ...field(0x12, [0xef, 0xbb, 0xbf, ...text('Hi')])]);
    expect(parse(bomMessage)).toEqual(tsParse(fromHex(bomMessage)));
    expect(parse(bomMessage).reply?.message).toBe('\ufeffHi');
  });
});

describe('reply parser agrees with the TypeScript codec on generated frames', () => {
  const REPLY_TAGS = [0x02, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c];
  const symbols = ['a', 'z', '-', '0', 'K', ' ', 'é', '—', '🔑', '\u0085'];
  const textBytes = fc.array(fc.constantFrom(...symbols), { maxLength: 60 }).map((s) => text(s.join('')));
  const value = fc.oneof(
    fc.constantFrom([0], [1], [2], [5], [6], [255]),
    fc.integer({ min: 0, max: 0xffffffff }).map(u32),
    fc.constantFrom(...['wrong-pin', 'no-pool', 'hammering-delay', 'made-up'].map(text)),
    textBytes,
    fc.uint8Array({ maxLength: 8 }).map((b) => [...b]),
  );
  const flag = fc.constantFrom([0], [1]);
  const wellTyped = fc.oneof(
    fc.tuple(fc.constantFrom(0x13, 0x15), fc.integer({ min: 0, max: 0xffffffff }).map(u32)),
    fc.tuple(fc.constantFrom(0x14, 0x16, 0x17, 0x18, 0x1b, 0x1c), flag),
    fc.tuple(
      fc.constant(0x11),
      fc.constantFrom(...['wrong-pin', 'no-pool', 'pools-exhausted', 'too-late', 'ble-off', 'made-up'].map(text)),
    ),
    fc.tuple(fc.constantFrom(0x12, 0x1a), textBytes),
  );
  const anyField = fc.tuple(fc.oneof(fc.constantFrom(...REPLY_TAGS), fc.integer({ min: 0, max: 255 })), value);
  const fieldArb = fc.oneof({ arbitrary: wellTyped, weight: 6 }, { arbitrary: anyField, weight: 1 });
  const bodyArb = fc.array(fieldArb, { maxLength: 6 }).map((fields) => fields.flatMap(([tag, v]) => field(tag, v)));
  const mutation = fc.oneof(
    { arbitrary: fc.constant((b: number[]) => b), weight: 6 },
    { arbitrary: fc.constant((b: number[]) => b.slice(0, -1)), weight: 1 },
    { arbitrary: fc.constant((b: number[]) => [...b, 0]), weight: 1 },
    {
      arbitrary: fc.nat().map((i) => (b: number[]) => b.map((x, j) => (j === i % b.length ? x ^ 0x80 : x))),
      weight: 2,
    },
  );
  const frameArb = fc.tuple(bodyArb, mutation, fc.boolean()).map(([body, mutate, withIdAndStatus]) => {
    const mutated = mutate(withIdAndStatus ? [...field(0x02, u32(9)), ...field(0x10, [1]), ...body] : body);
    return replyFrame(mutated, { length: mutated.length });
  });

  it('3,000 frames: same verdict and same fields', () => {
    const frames = fc.sample(frameArb, { numRuns: 3000, seed: 20261128 });
    const results = parseMany(frames);
    expect(results).toHaveLength(frames.length);
    let accepted = 0;
    frames.forEach((hex, i) => {
      const ours = results[i]!;
      if (ours.result === 'ok') accepted++;
      expect({ hex, ...ours }).toEqual({ hex, ...tsParse(fromHex(hex)) });
    });
    expect(accepted).toBeGreaterThan(300); // the generator reaches valid replies too
  });
});

describe('request encoder', () => {
  /**
   * Encodes vector `name` with the C encoder, its arguments (after the request id) the vector's
   * own request `fields` in the driver's order, and checks the frame byte for byte.
   */
  function encodeVector(name: string, fields: string[]) {
    const v = vectors.validRequests!.find((c) => c.name === name)!;
    const request = v.request!;
    const args = [String(request.requestId), ...fields.map((f) => String(request[f]))];
    const hex = runJson<{ hex: string }>(cli, [`encode-${request.op}`, ...args]).hex;
    expect(hex).toBe(v.hex);
    return { request, frame: fromHex(hex) };
  }

  it('encodes the lock-screen status vector byte for byte', () => {
    encodeVector('status from a lock screen', ['user']);
  });

  it('encodes the online-auth vector byte for byte, and refuses a wait over ten minutes', () => {
    encodeVector('online-auth', ['user', 'context', 'wait']);
    expect(
      runJson<{ hex: string | null }>(cli, ['encode-online-auth', '6', 'alice', 'pam:x', '600001']).hex,
    ).toBeNull();
  });

  it('encodes the ble-auth vector byte for byte, and refuses a wait over ten minutes or a bad user', () => {
    encodeVector('ble-auth', ['user', 'context', 'wait']);
    expect(runJson<{ hex: string | null }>(cli, ['encode-ble-auth', '11', 'alice', 'pam:x', '600001']).hex).toBeNull();
    expect(runJson<{ hex: string | null }>(cli, ['encode-ble-auth', '11', '../root', 'pam:x', '5000']).hex).toBeNull();
  });

  it('encodes the verify vector byte for byte', () => {
    encodeVector('verify', ['user', 'pinHex', 'context']);
  });

  it('encodes the credential-capture vector byte for byte, which the agent decodes to the same password', () => {
    const { request, frame } = encodeVector('credential-capture', ['user', 'passwordHex']);
    expect(decodeRequestBody(frame.subarray(FRAME_HEADER_BYTES))).toEqual({
      op: 'credential-capture',
      requestId: 17,
      user: request.user,
      password: fromHex(String(request.passwordHex)),
    });
    // The longest password the field takes, with the longest user: within LK_REQUEST_FRAME_MAX.
    const longest = runJson<{ hex: string | null }>(cli, [
      'encode-credential-capture',
      '1',
      'u'.repeat(256),
      '61'.repeat(512),
    ]).hex;
    expect(fromHex(longest!).length).toBe(8 + 3 + 1 + 3 + 4 + 3 + 256 + 3 + 512);
  });

  it('encodes the credential-refused vector byte for byte, which the agent decodes to the same generation', () => {
    const { request, frame } = encodeVector('credential-refused', ['user', 'generation']);
    expect(decodeRequestBody(frame.subarray(FRAME_HEADER_BYTES))).toEqual(request);
    const highest = runJson<{ hex: string }>(cli, ['encode-credential-refused', '1', 'alice', '4294967295']).hex;
    expect(decodeRequestBody(fromHex(highest).subarray(FRAME_HEADER_BYTES))).toMatchObject({ generation: 0xffffffff });
  });

  it('produces requests the agent-side decoder accepts with the same fields', () => {
    const userArb = fc
      .array(fc.constantFrom('a', 'Z', '.', '_', '@', 'ü', '漢', '-', '1'), { minLength: 1, maxLength: 40 })
      .map((s) => s.join(''));
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        userArb,
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.constantFrom('pam:login', 'pam:i3lock', ''),
        (id, user, pin, context) => {
          const hex = runJson<{ hex: string }>(cli, ['encode-verify', String(id), user, toHex(pin), context]).hex;
          const frame = fromHex(hex);
          decodeFrameHeader(frame.subarray(0, FRAME_HEADER_BYTES), FrameKind.request, MAX_REQUEST_BODY);
          const request = decodeRequestBody(frame.subarray(FRAME_HEADER_BYTES));
          expect(request).toEqual({ op: 'verify', requestId: id, user, pin: new Uint8Array(pin), context });
        },
      ),
      { numRuns: 40, seed: 7 },
    );
  });

  it.each([
    ['an empty user', ['encode-status', '1', '']],
    ['a user with a slash', ['encode-status', '1', '../root']],
    ['a user of 257 bytes', ['encode-status', '1', 'a'.repeat(257)]],
    ['a user with a newline', ['encode-status', '1', 'al\nice']],
    ['an empty PIN', ['encode-verify', '1', 'alice', '']],
    ['a PIN of 65 bytes', ['encode-verify', '1', 'alice', '31'.repeat(65)]],
    ['a context of 129 bytes', ['encode-verify', '1', 'alice', '31', 'c'.repeat(129)]],
    ['a context with a tab', ['encode-verify', '1', 'alice', '31', 'pam:\tx']],
    ['an empty password', ['encode-credential-capture', '1', 'alice', '']],
    ['a password of 513 bytes', ['encode-credential-capture', '1', 'alice', '61'.repeat(513)]],
    ['a password for a user with a slash', ['encode-credential-capture', '1', '../root', '61']],
    ['a refusal of generation 0', ['encode-credential-refused', '1', 'alice', '0']],
    ['a refusal for a user with a slash', ['encode-credential-refused', '1', '../root', '1']],
  ])('refuses to encode %s', (_name, args) => {
    expect(runJson<{ hex: string | null }>(cli, args as string[]).hex).toBeNull();
  });
});
