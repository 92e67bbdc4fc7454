/**
 * The sealed user-state journal (docs/state-files.md "User state journal") against journals an
 * independent implementation sealed (test/vectors/generate-state-journal-vectors.py): the keys, the
 * header, the file name, a record that carries its verifiers, one that carries the Windows
 * password's copies, a torn tail, the wrong-PIN tags, and every journal a reader must refuse.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { verifyOfflinePin, wrongInputTag } from '../../../agent/offline-pin/verify-offline-pin.js';
import { StateUnreadableError, deriveSealingKeys, encodeJournalHeader } from '../../../agent/state/state-journal.js';
import { parseJournal } from '../../../agent/state/state-journal.js';
import { stateFileName } from '../../../agent/state/user-state-store.js';
import { userStateToJson } from '../../../agent/state/user-state.js';
import { fromHex, toHex, utf8 } from '../../../protocol/bytes.js';
import { DEFAULT_POLICY } from '../../../protocol/policy-settings.js';

interface Vectors {
  sealingKeyHex: string;
  stateKeyHex: string;
  tagKeyHex: string;
  user: string;
  fileName: string;
  headerHex: string;
  journalHex: string;
  records: number;
  end: number;
  state: unknown;
  tornTail: { hex: string; records: number; end: number; state: unknown };
  wrongPinTags: { user: string; typed: string; tag: string }[];
  invalid: { name: string; hex: string; error: string }[];
  windowsJournal: { hex: string; records: number; state: unknown };
}
const vectors = JSON.parse(
  readFileSync(new URL('../../vectors/state-journal.json', import.meta.url), 'utf8'),
) as Vectors;
const keys = deriveSealingKeys(fromHex(vectors.sealingKeyHex));

describe('state journal vectors', () => {
  it('derives K_state and K_tag, names the file and writes the header as the generator does', () => {
    expect(toHex(keys.stateKey)).toBe(vectors.stateKeyHex);
    expect(toHex(keys.tagKey)).toBe(vectors.tagKeyHex);
    expect(stateFileName(vectors.user)).toBe(vectors.fileName);
    expect(toHex(encodeJournalHeader(vectors.user))).toBe(vectors.headerHex);
  });

  it("opens the generator's journal, carried verifiers resolved from the record before", () => {
    const parsed = parseJournal(fromHex(vectors.journalHex), vectors.user, keys, 'vector');
    expect(userStateToJson(parsed.state)).toEqual(vectors.state);
    expect({ records: parsed.records, end: parsed.end }).toEqual({ records: vectors.records, end: vectors.end });
  });

  it("opens the generator's journal whose second record carries the Windows password's copies less the spent PIN's", () => {
    const parsed = parseJournal(fromHex(vectors.windowsJournal.hex), vectors.user, keys, 'vector');
    expect(parsed.records).toBe(vectors.windowsJournal.records);
    expect(userStateToJson(parsed.state)).toEqual(vectors.windowsJournal.state);
  });

  it('ignores a torn tail: the last whole record is the state', () => {
    const parsed = parseJournal(fromHex(vectors.tornTail.hex), vectors.user, keys, 'vector');
    expect(userStateToJson(parsed.state)).toEqual(vectors.tornTail.state);
    expect({ records: parsed.records, end: parsed.end }).toEqual({
      records: vectors.tornTail.records,
      end: vectors.tornTail.end,
    });
  });

  it.each(vectors.wrongPinTags)('tags a wrong $typed for $user as the generator does', ({ user, typed, tag }) => {
    expect(wrongInputTag(keys.tagKey, user, utf8(typed))).toBe(tag);
  });

  it.each(vectors.invalid)('refuses $name', ({ hex, error }) => {
    expect(() => parseJournal(fromHex(hex), vectors.user, keys, 'vector')).toThrow(StateUnreadableError);
    expect(() => parseJournal(fromHex(hex), vectors.user, keys, 'vector')).toThrow(error);
  });

  it("counts the generator's wrong-PIN tag for the state it sealed", async () => {
    const { state } = parseJournal(fromHex(vectors.journalHex), vectors.user, keys, 'vector');
    const now = { wallMs: 1795000000100, bootId: 'boot-1', uptimeMs: 61_000 };
    const policy = { ...DEFAULT_POLICY, offlineMode: true };
    const { decision, nextState } = await verifyOfflinePin({
      user: vectors.user,
      state,
      policy,
      pin: utf8(vectors.wrongPinTags[0]!.typed),
      now,
      tagKey: keys.tagKey,
      verifier: async () => new Uint8Array(32),
    });
    expect(decision).toMatchObject({ ok: false, reason: 'wrong-pin' });
    expect(nextState?.hammering.wrongTags).toContain(vectors.wrongPinTags[0]!.tag);
  });
});
