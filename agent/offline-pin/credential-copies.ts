/**
 * The Windows password's copies in a user state (docs/windows.md §6.2–6.6), pure: who gets the
 * logon credential back, wrapping the password to every live holder at a capture, sealing the
 * copies a new pool or phone still lacks while the password is in memory, and opening the copy
 * of the PIN just accepted. The password is UTF-16LE bytes here; every function that makes a
 * copy of it wipes its own, the caller wipes what it passed in.
 */
import { wipe } from '../../protocol/bytes.js';
import {
  unwrapCredential,
  wrapCredential,
  x25519PairFromSeed,
  type CopyOpening,
} from '../../protocol/credential-wrap.js';
import { encodeLogonCredential } from '../../protocol/windows-logon-credential.js';
import type { AccountId, Caller } from '../../platform/ipc-transport.js';
import type { OpName } from '../../protocol/ipc-messages.js';
import type { UserState } from '../state/user-state.js';
import {
  bindingOf,
  holderKey,
  poolTakesCopies,
  withLiveCopies,
  type CopyHolder,
  type CredentialCopy,
  type WindowsCredentialState,
} from '../state/windows-credential.js';
import type { AcceptedPinKey } from './verify-offline-pin.js';

/** The Windows account a password belongs to (docs/windows.md §5: the logon credential's domain and user). */
export interface WindowsAccount {
  readonly sid: string;
  readonly domain: string;
  readonly user: string;
}

/** Where a request comes from, as far as the logon credential is concerned (docs/windows.md §5). */
export interface HandbackContext {
  /** process.platform of the agent (currentPlatform().name). */
  readonly platform: NodeJS.Platform;
  readonly op: OpName;
  /** The connection was bound by a status with the lock-screen flag (docs/ipc.md "Lock-screen connections"). */
  readonly lockScreen: boolean;
  readonly caller: Caller;
}

export type HandbackDecision =
  | { readonly give: true }
  | { readonly give: false; readonly why: 'not-windows' | 'not-an-unlock' | 'not-a-lock-screen' | 'not-the-system' };

/** Ops whose accepted reply may carry the logon credential (docs/windows.md §5); this agent hands it back on verify. */
const UNLOCK_OPS: ReadonlySet<OpName> = new Set(['verify', 'online-auth', 'ble-auth']);

/**
 * The caller the credential provider is: the agent's own account (LocalSystem; the transport's
 * `privileged`), acting with that account's authority (`admin`) and as itself (`uid` = `account`).
 * An elevated administrator of another account is not it (docs/windows.md §7).
 */
export function isSystemCaller(caller: Caller): boolean {
  return caller.admin && caller.privileged && caller.uid === caller.account;
}

/** Who gets the logon credential: an unlock op on a lock-screen connection of the system, on Windows. Nobody else. */
export function credentialHandback(context: HandbackContext): HandbackDecision {
  if (context.platform !== 'win32') return { give: false, why: 'not-windows' };
  if (!UNLOCK_OPS.has(context.op)) return { give: false, why: 'not-an-unlock' };
  if (!context.lockScreen) return { give: false, why: 'not-a-lock-screen' };
  if (!isSystemCaller(context.caller)) return { give: false, why: 'not-the-system' };
  return { give: true };
}

/** credential-capture (docs/ipc.md op 15): the same caller on the same kind of connection, on Windows. */
export function mayCapture(context: Omit<HandbackContext, 'op'>): boolean {
  return context.platform === 'win32' && context.lockScreen && isSystemCaller(context.caller);
}

/**
 * The account of `name` (`DOMAIN\user`, or a local `user` on the computer `computerName`) whose
 * SID the OS gave; null when it cannot be a Windows account (no SID, or a part out of §5's limits).
 */
export function windowsAccountOf(name: string, sid: AccountId | null, computerName: string): WindowsAccount | null {
  if (typeof sid !== 'string') return null;
  const slash = name.indexOf('\\');
  const domain = slash < 0 ? computerName.toUpperCase() : name.slice(0, slash);
  const user = slash < 0 ? name : name.slice(slash + 1);
  const fits = (part: string, max: number) => part.length >= 1 && part.length <= max && !part.includes('\\');
  return fits(domain, 255) && fits(user, 256) ? { sid, domain, user } : null;
}

interface Recipient {
  readonly holder: CopyHolder;
  readonly key: Uint8Array;
}

/** Every live holder's public key: each live PIN's P_c of a pool that takes copies, each paired phone's CK.pub. */
export function copyRecipients(state: UserState): Recipient[] {
  const recipients: Recipient[] = [];
  for (const pool of [...state.pools, ...state.pendingPools.map((pending) => pending.pool)]) {
    if (!poolTakesCopies(pool)) continue;
    for (const verifier of pool.verifiers)
      if (verifier.credentialKey !== undefined && verifier.c >= pool.next)
        recipients.push({ holder: { holder: 'pin', poolId: pool.poolId, c: verifier.c }, key: verifier.credentialKey });
  }
  for (const phone of [...state.devices, ...state.blePhones])
    if (phone.credentialKey !== undefined)
      recipients.push({
        holder: { holder: 'phone', deviceId: phone.deviceId },
        key: new Uint8Array(Buffer.from(phone.credentialKey, 'base64url')),
      });
  return recipients;
}

async function sealTo(
  credential: Omit<WindowsCredentialState, 'copies'>,
  recipients: readonly Recipient[],
  password: Uint8Array,
): Promise<CredentialCopy[]> {
  const copies = await Promise.all(
    recipients.map(async ({ holder, key }): Promise<CredentialCopy | null> => {
      try {
        return { ...holder, ...(await wrapCredential(key, password, bindingOf(credential, holder))) };
      } catch {
        return null; // a key nothing can be wrapped to (a low-order point) gets no copy; the others still do
      }
    }),
  );
  return copies.filter((copy) => copy !== null);
}

/**
 * A capture (docs/windows.md §6.6): the next generation, the password sealed to every live holder,
 * the older generation's copies dropped — all in the state the caller writes in one durable write.
 */
export async function captureCredential(
  state: UserState,
  account: WindowsAccount,
  password: Uint8Array,
): Promise<UserState> {
  const credential = { ...account, generation: (state.windowsCredential?.generation ?? 0) + 1 };
  const copies = await sealTo(credential, copyRecipients(state), password);
  return { ...state, windowsCredential: { ...credential, copies } };
}

/**
 * While the password is in memory (an unlock opened a copy): the copies a live holder still lacks
 * — a pool issued without the password, a phone paired since — at the current generation (§6.6).
 */
export async function sealMissingCopies(state: UserState, password: Uint8Array): Promise<UserState> {
  const credential = state.windowsCredential;
  if (credential === null) return state;
  const held = new Set(credential.copies.map(holderKey));
  const missing = copyRecipients(state).filter(({ holder }) => !held.has(holderKey(holder)));
  if (missing.length === 0) return state;
  const copies = [...credential.copies, ...(await sealTo(credential, missing, password))];
  return { ...state, windowsCredential: { ...credential, copies } };
}

export type PinCopyOpening = CopyOpening | { ok: false; code: 'no-copy'; message: string };

/** Opens the copy the accepted PIN holds, with seed_c (the caller wipes the seed and the password). */
export async function openPinCopy(state: UserState, pinKey: AcceptedPinKey): Promise<PinCopyOpening> {
  const credential = state.windowsCredential;
  const copy = credential?.copies.find(
    (held) => held.holder === 'pin' && held.poolId === pinKey.poolId && held.c === pinKey.c,
  );
  if (credential === null || copy === undefined)
    return { ok: false, code: 'no-copy', message: 'this PIN holds no copy of the Windows password' };
  return unwrapCredential(await x25519PairFromSeed(pinKey.seed), copy, bindingOf(credential, copy));
}

export interface Handback {
  /** The state to write: the accepted one, with the copies its holders lacked while the password was at hand. */
  readonly nextState: UserState;
  /** The logon credential of docs/windows.md §5, or null when the PIN held no usable copy. The caller wipes it. */
  readonly secret: Uint8Array | null;
  /** What opening the PIN's copy came to (never logged with anything of the copy). */
  readonly opening: 'ok' | Exclude<PinCopyOpening, { ok: true }>['code'];
}

/**
 * An accepted PIN's handback: its copy opened from the state it was accepted in (`before`), the
 * copies still lacking sealed into `after` (the state to make durable), and the logon credential.
 * `pinKey.seed` stays the caller's to wipe; the password never leaves this function.
 */
export async function handBack(before: UserState, after: UserState, pinKey: AcceptedPinKey): Promise<Handback> {
  const opened = await openPinCopy(before, pinKey);
  if (!opened.ok) return { nextState: after, secret: null, opening: opened.code };
  const credential = before.windowsCredential!;
  try {
    const nextState = withLiveCopies(await sealMissingCopies(after, opened.password));
    const secret = encodeLogonCredential({
      domain: credential.domain,
      user: credential.user,
      password: opened.password,
    });
    return { nextState, secret, opening: 'ok' };
  } finally {
    wipe(opened.password);
  }
}
