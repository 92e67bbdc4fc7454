/**
 * Who gets the Windows logon credential, and the copies behind it (docs/windows.md §5, §6.2–6.6):
 * the decision with every refusal, the capture (a copy per live holder, a new generation), the
 * copies sealed later while the password is at hand, and the handback of an accepted PIN.
 */
import { describe, expect, it } from 'vitest';
import {
  captureCredential,
  copyRecipients,
  credentialHandback,
  handBack,
  isSystemCaller,
  mayCapture,
  openPinCopy,
  sealMissingCopies,
  windowsAccountOf,
} from '../../../agent/offline-pin/credential-copies.js';
import { issuePool } from '../../../agent/offline-pin/offline-pin-pool.js';
import { verifyOfflinePin } from '../../../agent/offline-pin/verify-offline-pin.js';
import { emptyUserState, type UserState } from '../../../agent/state/user-state.js';
import { bindingOf } from '../../../agent/state/windows-credential.js';
import { ManualClock } from '../../../platform/clock.js';
import type { Caller } from '../../../platform/ipc-transport.js';
import { utf8 } from '../../../protocol/bytes.js';
import { copyKeyFor, openCopy, x25519PairFromSeed } from '../../../protocol/credential-wrap.js';
import { DEFAULT_POLICY } from '../../../protocol/policy-settings.js';
import { decodeLogonCredential, utf16le } from '../../../protocol/windows-logon-credential.js';
import { Phone } from '../../helpers/agent-harness.js';

const SYSTEM: Caller = { pid: 700, uid: 'S-1-5-18', account: 'S-1-5-18', admin: true, privileged: true };
const ACCOUNT = { sid: 'S-1-5-21-1-2-3-1001', domain: 'DESK-042', user: 'alice' };
const KDF = { algorithm: 'argon2id', version: 19, memoryKiB: 8, iterations: 1, parallelism: 1 } as const;
const clock = new ManualClock();
const policy = { ...DEFAULT_POLICY, offlineMode: true };

describe('credentialHandback (docs/windows.md §5): nobody but the system lock screen, on Windows', () => {
  const base = { platform: 'win32', op: 'verify', lockScreen: true, caller: SYSTEM } as const;

  it('gives it to an accepted unlock on a lock-screen connection of the system, on Windows', () => {
    for (const op of ['verify', 'online-auth', 'ble-auth'] as const)
      expect(credentialHandback({ ...base, op })).toEqual({ give: true });
  });

  it('refuses every other case, naming why', () => {
    const refusals: [Partial<typeof base> | { caller: Caller }, string][] = [
      [{ platform: 'linux' as never }, 'not-windows'],
      [{ platform: 'darwin' as never }, 'not-windows'],
      [{ op: 'status' as never }, 'not-an-unlock'],
      [{ op: 'enroll' as never }, 'not-an-unlock'],
      [{ op: 'credential-capture' as never }, 'not-an-unlock'],
      [{ lockScreen: false as never }, 'not-a-lock-screen'],
      [{ caller: { ...SYSTEM, admin: false } }, 'not-the-system'],
      // an elevated administrator: acts for anyone, but is not the agent's own account
      [
        { caller: { ...SYSTEM, uid: 'S-1-5-21-1-2-3-500', account: 'S-1-5-21-1-2-3-500', privileged: false } },
        'not-the-system',
      ],
      // a setuid-like caller: another account's process with the system's authority
      [{ caller: { ...SYSTEM, account: 'S-1-5-21-1-2-3-1001' } }, 'not-the-system'],
      [
        {
          caller: {
            pid: 1,
            uid: 'S-1-5-21-1-2-3-1001',
            account: 'S-1-5-21-1-2-3-1001',
            admin: false,
            privileged: false,
          },
        },
        'not-the-system',
      ],
    ];
    for (const [change, why] of refusals)
      expect(credentialHandback({ ...base, ...change } as never), JSON.stringify(change)).toEqual({ give: false, why });
  });

  it('lets only the same caller on the same kind of connection hand over a password (credential-capture)', () => {
    expect(mayCapture({ platform: 'win32', lockScreen: true, caller: SYSTEM })).toBe(true);
    expect(mayCapture({ platform: 'linux', lockScreen: true, caller: SYSTEM })).toBe(false);
    expect(mayCapture({ platform: 'win32', lockScreen: false, caller: SYSTEM })).toBe(false);
    expect(mayCapture({ platform: 'win32', lockScreen: true, caller: { ...SYSTEM, privileged: false } })).toBe(false);
    expect(isSystemCaller({ ...SYSTEM, uid: 0, account: 0 })).toBe(true); // root on Linux: the same shape
  });
});

describe('windowsAccountOf', () => {
  it('splits DOMAIN\\user, and names the computer for a local account', () => {
    expect(windowsAccountOf('CORP\\alice', 'S-1-5-21-9-1001', 'desk-042')).toEqual({
      sid: 'S-1-5-21-9-1001',
      domain: 'CORP',
      user: 'alice',
    });
    expect(windowsAccountOf('alice', 'S-1-5-21-9-1001', 'desk-042')).toEqual({
      sid: 'S-1-5-21-9-1001',
      domain: 'DESK-042',
      user: 'alice',
    });
  });

  it('refuses what cannot be a Windows account', () => {
    expect(windowsAccountOf('alice', 1000, 'desk')).toBeNull(); // a uid, not a SID
    expect(windowsAccountOf('alice', null, 'desk')).toBeNull();
    expect(windowsAccountOf('\\alice', 'S-1-5-21-9-1001', 'desk')).toBeNull();
    expect(windowsAccountOf('CORP\\', 'S-1-5-21-9-1001', 'desk')).toBeNull();
    expect(windowsAccountOf('A\\B\\c', 'S-1-5-21-9-1001', 'desk')).toBeNull();
    expect(windowsAccountOf(`${'D'.repeat(256)}\\alice`, 'S-1-5-21-9-1001', 'desk')).toBeNull();
  });
});

/** An alphanumeric pool of `pinCount` PINs of `length` symbols for alice. */
const issue = (authenticatorId: string, length: number, pinCount: number) =>
  issuePool({
    user: 'alice',
    host: 'ws',
    authenticatorId,
    format: { charset: 'alphanumeric', length },
    pinCount,
    kdf: KDF,
    now: clock.now(),
  });

async function stateWithPools(): Promise<{ state: UserState; phone: Phone; phoneSeed: Uint8Array }> {
  const strong = await issue('phone', 8, 3);
  const weak = await issue('keypad', 7, 3);
  const phoneSeed = new Uint8Array(32).fill(0x21);
  const phoneKey = Buffer.from((await x25519PairFromSeed(phoneSeed)).publicKey).toString('base64url');
  const state: UserState = {
    ...emptyUserState('alice'),
    generation: 1,
    pools: [strong.pool, weak.pool],
    blePhones: [
      {
        deviceId: 'ble-7K2QD',
        name: 'Pixel',
        pairingKey: phoneKey,
        workstationSeed: phoneKey,
        phoneKey,
        credentialKey: phoneKey,
        pairedAtMs: 1,
      },
    ],
  };
  return { state, phone: new Phone(strong.importUri), phoneSeed };
}

async function accept(state: UserState, pin: string) {
  return verifyOfflinePin({
    user: 'alice',
    state,
    policy,
    pin: utf8(pin),
    now: clock.now(),
    tagKey: new Uint8Array(32),
    wantCredentialSeed: true,
  });
}

describe('capture and handback', () => {
  it('wraps to every live PIN of a pool of 40 bits or more and to each phone key, at a new generation', async () => {
    const { state, phoneSeed } = await stateWithPools();
    expect(copyRecipients(state).map((r) => (r.holder.holder === 'pin' ? r.holder.c : r.holder.deviceId))).toEqual([
      0,
      1,
      2,
      'ble-7K2QD',
    ]);
    const first = await captureCredential(state, ACCOUNT, utf16le('hunter2'));
    expect(first.windowsCredential).toMatchObject({ ...ACCOUNT, generation: 1 });
    expect(first.windowsCredential!.copies).toHaveLength(4);
    // The phone opens its copy with the k it computes from CK (and would release k, never the password).
    const phoneCopy = first.windowsCredential!.copies.find((copy) => copy.holder === 'phone')!;
    const k = await copyKeyFor(await x25519PairFromSeed(phoneSeed), phoneCopy.eph);
    const opened = await openCopy(k!, phoneCopy, bindingOf(first.windowsCredential!, phoneCopy));
    expect(opened.ok && Buffer.from(opened.password).equals(Buffer.from(utf16le('hunter2')))).toBe(true);

    const second = await captureCredential(first, ACCOUNT, utf16le('new password'));
    expect(second.windowsCredential!.generation).toBe(2);
    expect(second.windowsCredential!.copies).toHaveLength(4);
    // The older generation's copy no longer opens under the new binding, and the new one does.
    const reopened = await openCopy(k!, phoneCopy, bindingOf(second.windowsCredential!, phoneCopy));
    expect(reopened).toMatchObject({ ok: false, code: 'copy-unopenable' });
  });

  it('hands back the logon credential of an accepted PIN and keeps the copies of the PINs after it', async () => {
    const { state, phone } = await stateWithPools();
    const captured = await captureCredential(state, ACCOUNT, utf16le('hunter2 \u2603'));
    const result = await accept(captured, phone.pin(1));
    expect(result.decision.ok).toBe(true);
    const handed = await handBack(captured, result.nextState!, result.pinKey!);
    expect(handed.opening).toBe('ok');
    const decoded = decodeLogonCredential(handed.secret!);
    expect(decoded.ok && decoded.credential.domain).toBe('DESK-042');
    expect(decoded.ok && decoded.credential.user).toBe('alice');
    expect(decoded.ok && Buffer.from(decoded.credential.password).equals(Buffer.from(utf16le('hunter2 \u2603')))).toBe(
      true,
    );
    expect(
      handed.nextState.windowsCredential!.copies.map((copy) => (copy.holder === 'pin' ? copy.c : 'phone')),
    ).toEqual([2, 'phone']);
  });

  it('accepts a PIN with no usable copy and hands back nothing', async () => {
    const { state, phone } = await stateWithPools();
    // No capture yet: the PIN has no copy.
    const uncaptured = await accept(state, phone.pin(0));
    expect(await handBack(state, uncaptured.nextState!, uncaptured.pinKey!)).toMatchObject({
      secret: null,
      opening: 'no-copy',
    });
    // A copy tampered with, or sealed for another account, does not open.
    const captured = await captureCredential(state, ACCOUNT, utf16le('hunter2'));
    const copies = captured.windowsCredential!.copies;
    const flipped = copies.map((copy, i) => {
      if (i !== 0) return copy;
      const ciphertext = Uint8Array.from(copy.ciphertext);
      ciphertext[3]! ^= 1;
      return { ...copy, ciphertext };
    });
    const cases: UserState[] = [
      { ...captured, windowsCredential: { ...captured.windowsCredential!, copies: flipped } },
      { ...captured, windowsCredential: { ...captured.windowsCredential!, sid: 'S-1-5-21-1-2-3-1002' } },
      { ...captured, windowsCredential: { ...captured.windowsCredential!, generation: 2 } },
    ];
    for (const tampered of cases) {
      const result = await accept(tampered, phone.pin(0));
      expect(result.decision.ok).toBe(true);
      expect(await handBack(tampered, result.nextState!, result.pinKey!)).toMatchObject({
        secret: null,
        opening: 'copy-unopenable',
      });
    }
    // Another PIN's seed does not open this PIN's copy.
    const result = await accept(captured, phone.pin(0));
    const other = await accept(captured, phone.pin(1));
    expect(await openPinCopy(captured, { ...result.pinKey!, seed: other.pinKey!.seed })).toMatchObject({
      ok: false,
      code: 'copy-unopenable',
    });
  });

  it('seals the copies a new pool lacks at the current generation while the password is at hand', async () => {
    const { state, phone } = await stateWithPools();
    const captured = await captureCredential(state, ACCOUNT, utf16le('hunter2'));
    const later = await issue('tablet', 10, 2);
    const grown: UserState = { ...captured, pools: [...captured.pools, later.pool] };
    expect(await sealMissingCopies(grown, utf16le('hunter2'))).not.toBe(grown);
    const result = await accept(grown, phone.pin(0));
    const handed = await handBack(grown, result.nextState!, result.pinKey!);
    const copies = handed.nextState.windowsCredential!.copies;
    expect(copies.filter((copy) => copy.holder === 'pin' && copy.poolId === later.pool.poolId)).toHaveLength(2);
    expect(handed.nextState.windowsCredential!.generation).toBe(1);
    // Nothing missing: the same state back.
    expect(await sealMissingCopies(handed.nextState, utf16le('hunter2'))).toBe(handed.nextState);
    // And a new-pool PIN then opens its own copy.
    const tablet = new Phone(later.importUri);
    const viaTablet = await accept(handed.nextState, tablet.pin(1));
    expect((await openPinCopy(handed.nextState, viaTablet.pinKey!)).ok).toBe(true);
  });

  it('skips a phone key nothing can be wrapped to, and wraps to the others', async () => {
    const { state } = await stateWithPools();
    const lowOrder = Buffer.from(new Uint8Array(32)).toString('base64url');
    const odd: UserState = { ...state, blePhones: [{ ...state.blePhones[0]!, credentialKey: lowOrder }] };
    const captured = await captureCredential(odd, ACCOUNT, utf16le('hunter2'));
    expect(captured.windowsCredential!.copies.map((copy) => copy.holder)).toEqual(['pin', 'pin', 'pin']);
  });
});
