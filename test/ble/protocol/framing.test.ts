import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../../protocol/bytes.js';
import { BleProtocolError } from '../../../ble/protocol/errors.js';
import { Fragmenter, fragmentMessage, maxFragmentBytes, Reassembler } from '../../../ble/protocol/framing.js';
import { hex, vectors } from './vectors.js';

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof BleProtocolError) return error.code;
    throw error;
  }
  return 'no error';
}

describe('framing (docs/ble-protocol.md §4)', () => {
  it('cuts messages exactly as the Python generator does, at every MTU', () => {
    for (const v of vectors.fragments) {
      const fragments = fragmentMessage(hex(v.message), v.messageId, v.mtu);
      expect(fragments.map(toHex), v.name).toEqual(v.fragments);
      for (const fragment of fragments) expect(fragment.length).toBeLessThanOrEqual(maxFragmentBytes(v.mtu));
    }
  });

  it('reassembles every vector, with any message id it expects next', () => {
    for (const v of vectors.fragments) {
      const reassembler = new Reassembler(v.mtu);
      // Walk the reassembler to the vector's message id with 2-byte messages.
      for (let id = 0; id < v.messageId; id++) reassembler.push(fragmentMessage(Uint8Array.of(1, 5), id, v.mtu)[0]!, 0);
      const out = v.fragments.map((f) => reassembler.push(hex(f), 0));
      expect(
        out.slice(0, -1).every((m) => m === null),
        v.name,
      ).toBe(true);
      expect(toHex(out.at(-1)!)).toBe(v.message);
    }
  });

  it('refuses gaps, duplicates, reordering, oversize and malformed fragments with the vector code', () => {
    for (const v of vectors.invalidFragments) {
      const reassembler = new Reassembler(v.mtu);
      for (const f of v.fragments.slice(0, v.failsAt)) reassembler.push(hex(f), 0);
      expect(
        codeOf(() => reassembler.push(hex(v.fragments[v.failsAt]!), 0)),
        v.name,
      ).toBe(v.code);
      // Fail closed: the failure is sticky, even for a fragment that would otherwise be fine.
      expect(codeOf(() => reassembler.push(fragmentMessage(Uint8Array.of(1, 5), 0, v.mtu)[0]!, 0))).toBe(v.code);
      expect(reassembler.failure?.code).toBe(v.code);
    }
  });

  it('times out a half-received message after 1 s without the next fragment', () => {
    const fragments = fragmentMessage(hex(vectors.handshake.hello), 0, 23);
    const reassembler = new Reassembler(23);
    reassembler.push(fragments[0]!, 1_000);
    expect(reassembler.deadline).toBe(2_000);
    reassembler.push(fragments[1]!, 1_900);
    expect(codeOf(() => reassembler.push(fragments[2]!, 2_901))).toBe('reassembly-timeout');
    const idle = new Reassembler(23);
    expect(idle.deadline).toBeNull();
    expect(() => idle.checkTimeout(10 ** 9)).not.toThrow();
  });

  it('numbers messages per direction', () => {
    const fragmenter = new Fragmenter(185);
    expect(fragmenter.fragment(Uint8Array.of(1, 1))[0]![0]).toBe(0);
    expect(fragmenter.fragment(Uint8Array.of(1, 1))[0]![0]).toBe(1);
  });

  it('round-trips any message at any MTU (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 2, maxLength: 512 }),
        fc.integer({ min: 23, max: 600 }),
        fc.integer({ min: 0, max: 255 }),
        (message, mtu, id) => {
          const reassembler = new Reassembler(mtu);
          for (let i = 0; i < id; i++) reassembler.push(fragmentMessage(Uint8Array.of(1, 5), i, mtu)[0]!, 0);
          const out = fragmentMessage(message, id, mtu).map((f) => reassembler.push(f, 0));
          expect(toHex(out.at(-1)!)).toBe(toHex(message));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('never crashes on arbitrary fragments: each either fits or is refused with a BleProtocolError (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 30 }), (fragments) => {
        const reassembler = new Reassembler(23);
        for (const fragment of fragments) {
          try {
            reassembler.push(fragment, 0);
          } catch (error) {
            expect(error).toBeInstanceOf(BleProtocolError);
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it('names bad parameters', () => {
    expect(() => maxFragmentBytes(22)).toThrow(/attMtu/);
    expect(() => fragmentMessage(new Uint8Array(513), 0, 23)).toThrow(/512/);
    expect(() => fragmentMessage(new Uint8Array(4), 256, 23)).toThrow(/messageId/);
  });
});
