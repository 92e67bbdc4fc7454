/**
 * The Windows password's copies in the sealed user state (docs/windows.md §6.4 "At rest",
 * docs/state-files.md): the layout round-trips through a journal; a second copy for one holder,
 * or a copy where no live holder is, makes the journal unreadable; a copy leaves with its PIN
 * (or pool, or phone) in the same durable write.
 */
import { promises as fs } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { captureCredential, sealMissingCopies } from '../../../agent/offline-pin/credential-copies.js';
import { issuePool } from '../../../agent/offline-pin/offline-pin-pool.js';
import { verifyOfflinePin } from '../../../agent/offline-pin/verify-offline-pin.js';
import {
  deriveSealingKeys,
  parseJournal,
  sealRecord,
  encodeJournalHeader,
} from '../../../agent/state/state-journal.js';
import { emptyUserState, userStateToJson, type UserState } from '../../../agent/state/user-state.js';
import { StateUnreadableError, UserStateStore } from '../../../agent/state/user-state-store.js';
import {
  copiesProblem,
  markStale,
  withLiveCopies,
  type CredentialCopy,
} from '../../../agent/state/windows-credential.js';
import { ManualClock } from '../../../platform/clock.js';
import { utf8 } from '../../../protocol/bytes.js';
import { utf16le } from '../../../protocol/windows-logon-credential.js';
import { DEFAULT_POLICY } from '../../../protocol/policy-settings.js';
import { Phone, makeTempDir } from '../../helpers/agent-harness.js';

const keys = deriveSealingKeys(new Uint8Array(32).fill(5));
const KDF = { algorithm: 'argon2id', version: 19, memoryKiB: 8, iterations: 1, parallelism: 1 } as const;
const ACCOUNT = { sid: 'S-1-5-21-1004336348-1177238915-682003330-1001', domain: 'DESK-042', user: 'alice' };
const USER = 'DESK-042\\alice';
const PHONE_KEY = Buffer.from(new Uint8Array(32).fill(9)).toString('base64url');
const BLE_PHONE = {
  deviceId: 'ble-7K2QD',
  name: 'Pixel',
  pairingKey: PHONE_KEY,
  workstationSeed: PHONE_KEY,
  phoneKey: PHONE_KEY,
  credentialKey: PHONE_KEY,
  pairedAtMs: 1,
};
const OTHER_KEY = Buffer.from(new Uint8Array(32).fill(10)).toString('base64url');

async function windowsState(clock = new ManualClock()) {
  const issue = (authenticatorId: string, charset: 'alphanumeric' | 'numeric', length: number) =>
    issuePool({
      user: USER,
      host: 'ws',
      authenticatorId,
      format: { charset, length },
      pinCount: 4,
      kdf: KDF,
      now: clock.now(),
    });
  const strong = await issue('phone', 'alphanumeric', 8);
  const weak = await issue('keypad', 'numeric', 6);
  const base: UserState = {
    ...emptyUserState(USER),
    generation: 1,
    pools: [strong.pool, weak.pool],
    devices: [
      {
        deviceId: 'dev_A',
        name: 'Pixel',
        signingKey: PHONE_KEY,
        boxKey: PHONE_KEY,
        credentialKey: PHONE_KEY,
        pairedAtMs: 1,
      },
      { deviceId: 'dev_B', name: 'Old', signingKey: PHONE_KEY, boxKey: PHONE_KEY, pairedAtMs: 1 },
    ],
  };
  const password = utf16le('hunter2');
  const state = await captureCredential(base, ACCOUNT, password);
  return { state, clock, phone: new Phone(strong.importUri), weakPhone: new Phone(weak.importUri) };
}

function journalOf(...states: UserState[]): Buffer {
  const records = states.map((state, i) => sealRecord(state, keys, i === 0 ? null : states[i - 1]!));
  return Buffer.concat([encodeJournalHeader(USER), ...records]);
}

const read = (bytes: Buffer) => parseJournal(bytes, USER, keys, 'test.journal').state;

function withCopies(state: UserState, copies: CredentialCopy[]): UserState {
  return { ...state, generation: state.generation + 1, windowsCredential: { ...state.windowsCredential!, copies } };
}

describe('windowsCredential in the user state', () => {
  it('holds one copy per live PIN of a strong new-format pool and per phone with a credential key; round-trips', async () => {
    const { state } = await windowsState();
    const copies = state.windowsCredential!.copies;
    expect(copies.filter((copy) => copy.holder === 'pin').map((copy) => copy.holder === 'pin' && copy.c)).toEqual([
      0, 1, 2, 3,
    ]);
    expect(
      copies.filter((copy) => copy.holder === 'phone').map((copy) => copy.holder === 'phone' && copy.deviceId),
    ).toEqual(['dev_A']);
    expect(state.windowsCredential).toMatchObject({ ...ACCOUNT, generation: 1 });
    expect(read(journalOf(state))).toEqual(state);
    // What gets sealed holds the password in no form: not as text, not as UTF-16LE bytes in base64 or base64url.
    const snapshot = JSON.stringify(userStateToJson(state));
    const units = Buffer.from(utf16le('hunter2'));
    for (const form of ['hunter2', units.toString('base64').slice(0, 12), units.toString('base64url').slice(0, 12)])
      expect(snapshot).not.toContain(form);
  });

  it('leaves the windowsCredential out of a state that has none, so such a journal reads as before', async () => {
    const state = { ...emptyUserState(USER), generation: 1 };
    const record = sealRecord(state, keys);
    expect(read(Buffer.concat([encodeJournalHeader(USER), record]))).toEqual(state);
  });

  it('is unreadable with two copies for one holder', async () => {
    const { state } = await windowsState();
    const copies = state.windowsCredential!.copies;
    const twice = withCopies(state, [...copies, copies[0]!]);
    expect(copiesProblem(twice)).toMatch(/two copies/);
    expect(() => read(journalOf(state, twice))).toThrow(StateUnreadableError);
  });

  it('is unreadable with a copy where no live holder is', async () => {
    const { state } = await windowsState();
    const [first, ...rest] = state.windowsCredential!.copies as [CredentialCopy, ...CredentialCopy[]];
    if (first.holder !== 'pin') throw new Error('expected a PIN copy first');
    const { eph, nonce, ciphertext } = first;
    const phoneCopy = (deviceId: string, credentialKey: string): CredentialCopy => ({
      holder: 'phone',
      deviceId,
      credentialKey,
      eph,
      nonce,
      ciphertext,
    });
    const weakPool = state.pools[1]!;
    const misplaced: Record<string, CredentialCopy> = {
      'a spent counter': { ...first, c: 0 },
      'a counter past the limit': { ...first, c: 4 },
      'an unknown pool': { ...first, poolId: 'ab'.repeat(16) },
      'a pool too weak for copies': { ...first, poolId: weakPool.poolId },
      'a phone without a credential key': phoneCopy('dev_B', PHONE_KEY),
      'an unknown phone': phoneCopy('dev_Z', PHONE_KEY),
      'a phone whose credential key is another now': phoneCopy('dev_A', OTHER_KEY),
    };
    const spent = {
      ...state,
      pools: [{ ...state.pools[0]!, next: 1, verifiers: state.pools[0]!.verifiers.slice(1) }, weakPool],
    };
    for (const [name, copy] of Object.entries(misplaced)) {
      const bad = withCopies(spent, [...rest.filter((held) => held.holder === 'phone'), copy]);
      expect(copiesProblem(bad), name).toMatch(/not a live holder/);
      expect(() => read(journalOf(bad)), name).toThrow(StateUnreadableError);
    }
  });

  it('marks only the current capture stale (§6.6); the mark round-trips, carried copies keep it, and the next capture clears it', async () => {
    const { state } = await windowsState();
    const credential = state.windowsCredential!;
    expect(markStale(null, 1)).toEqual({ credential: null, mark: 'no-credential' });
    expect(markStale(credential, 2)).toEqual({ credential, mark: 'unknown-generation' });
    const marked = markStale(credential, 1);
    expect(marked).toEqual({ credential: { ...credential, stale: true }, mark: 'marked' });
    expect(markStale(marked.credential, 1)).toEqual({ credential: marked.credential, mark: 'already-stale' });
    const stale = { ...state, generation: state.generation + 1, windowsCredential: marked.credential };
    // A state written before the mark existed reads as not stale; the marked one (its copies carried) reads back marked.
    expect(read(journalOf(state)).windowsCredential!.stale).toBeUndefined();
    expect(read(journalOf(state, stale))).toEqual(stale);
    const recaptured = await captureCredential(stale, ACCOUNT, utf16le('correct horse'));
    expect(recaptured.windowsCredential).toMatchObject({ generation: 2 });
    expect(recaptured.windowsCredential!.stale).toBeUndefined();
    // A report about the capture before is too late: ignored.
    expect(markStale(recaptured.windowsCredential, 1)).toEqual({
      credential: recaptured.windowsCredential,
      mark: 'older-generation',
    });
  });

  it('refuses a copy of the wrong shape or an account outside the limits', async () => {
    const { state } = await windowsState();
    const copy = state.windowsCredential!.copies[0]!;
    const bad: UserState[] = [
      withCopies(state, [{ ...copy, eph: new Uint8Array(31) }]),
      withCopies(state, [{ ...copy, nonce: new Uint8Array(16) }]),
      withCopies(state, [{ ...copy, ciphertext: copy.ciphertext.subarray(1) }]),
      { ...state, windowsCredential: { ...state.windowsCredential!, sid: 'not-a-sid' } },
      { ...state, windowsCredential: { ...state.windowsCredential!, generation: 0 } },
      { ...state, windowsCredential: { ...state.windowsCredential!, domain: '' } },
      { ...state, windowsCredential: { ...state.windowsCredential!, stale: false as unknown as true } },
    ];
    for (const state of bad) expect(() => read(journalOf(state))).toThrow(StateUnreadableError);
  });

  it('drops a PIN copy in the same write that accepts the PIN (and the copies of PINs it skipped)', async () => {
    const { state, clock, phone } = await windowsState();
    const result = await verifyOfflinePin({
      user: USER,
      state,
      policy: { ...DEFAULT_POLICY, offlineMode: true },
      pin: utf8(phone.pin(2)),
      now: clock.now(),
      tagKey: keys.tagKey,
    });
    expect(result.decision.ok).toBe(true);
    const left = result.nextState!.windowsCredential!.copies.map((copy) =>
      copy.holder === 'pin' ? copy.c : copy.deviceId,
    );
    expect(left).toEqual([3, 'dev_A']);
    // The record carries the copies (docs/state-files.md "Carried copies"); a capture lists them again.
    expect(userStateToJson(result.nextState!, state)).toMatchObject({
      windowsCredential: { copies: 'previous-record' },
    });
    expect(read(journalOf(state, result.nextState!))).toEqual(result.nextState);
    const recaptured = await captureCredential(result.nextState!, ACCOUNT, utf16le('hunter3'));
    expect(userStateToJson(recaptured, result.nextState!)).toMatchObject({
      windowsCredential: { generation: 2, copies: expect.any(Array) },
    });
  });

  it('the store drops the copies of a replaced pool or an unpaired phone in the write that removes them', async () => {
    const { state } = await windowsState();
    const dir = await makeTempDir();
    const store = new UserStateStore(dir, async () => keys);
    await store.read(USER);
    await store.write(state);
    const removed = { ...state, generation: 2, pools: [state.pools[1]!], devices: [] };
    expect(copiesProblem(removed)).not.toBeNull();
    await store.write(removed);
    const reread = (await new UserStateStore(dir, async () => keys).read(USER))!;
    expect(reread.windowsCredential).toMatchObject({ ...ACCOUNT, generation: 1, copies: [] });
    expect(withLiveCopies(removed)).toEqual(reread);
    expect((await fs.readdir(dir)).length).toBe(1);
  });

  it('the store drops a phone copy in the write that gives its deviceId another credential key; the next seal makes a new one', async () => {
    const { state: captured } = await windowsState();
    const state = await captureCredential({ ...captured, blePhones: [BLE_PHONE] }, ACCOUNT, utf16le('hunter2'));
    const phones = (held: UserState) =>
      held.windowsCredential!.copies.flatMap((copy) =>
        copy.holder === 'phone' ? [`${copy.deviceId} ${copy.credentialKey}`] : [],
      );
    expect(phones(state)).toEqual([`dev_A ${PHONE_KEY}`, `ble-7K2QD ${PHONE_KEY}`]);
    const dir = await makeTempDir();
    const store = new UserStateStore(dir, async () => keys);
    await store.read(USER);
    await store.write(state);
    // Both phones pair again (pairing replaces the record of the same deviceId): each has a new CK.
    const repaired: UserState = {
      ...state,
      generation: state.generation + 1,
      devices: [{ ...state.devices[0]!, credentialKey: OTHER_KEY }, state.devices[1]!],
      blePhones: [{ ...BLE_PHONE, credentialKey: OTHER_KEY }],
    };
    expect(copiesProblem(repaired)).toMatch(/not a live holder/);
    await store.write(repaired);
    const reread = (await new UserStateStore(dir, async () => keys).read(USER))!;
    expect(phones(reread)).toEqual([]);
    expect(reread.windowsCredential!.copies).toHaveLength(4); // the PINs' copies stay
    // While the password is at hand again (an unlock opened a copy), the phones get copies sealed to their new keys.
    const resealed = await sealMissingCopies(reread, utf16le('hunter2'));
    expect(phones(resealed)).toEqual([`dev_A ${OTHER_KEY}`, `ble-7K2QD ${OTHER_KEY}`]);
    await store.write({ ...resealed, generation: resealed.generation + 1 });
    expect(phones((await new UserStateStore(dir, async () => keys).read(USER))!)).toEqual([
      `dev_A ${OTHER_KEY}`,
      `ble-7K2QD ${OTHER_KEY}`,
    ]);
  });

  it('reads a credentialKey on paired phones and refuses one of the wrong length', async () => {
    const { state } = await windowsState();
    const withBle = { ...state, blePhones: [BLE_PHONE] };
    expect(read(journalOf(withBle)).blePhones[0]!.credentialKey).toBe(PHONE_KEY);
    const short = { ...withBle, blePhones: [{ ...BLE_PHONE, credentialKey: PHONE_KEY.slice(1) }] };
    expect(() => read(journalOf(short))).toThrow(StateUnreadableError);
  });
});
