/**
 * The user's Windows password at rest (docs/windows.md §6.4 "At rest", docs/state-files.md):
 * only wrapped copies, one per live offline PIN of an `argon2id-hkdf-v1` pool and one per paired
 * phone with a credential key, inside the user's sealed state. This module holds the types, the
 * schema every decrypted record must pass, and the rule of where a copy may sit. Pure.
 */
import * as v from 'valibot';
import {
  KEY_BYTES,
  NONCE_BYTES,
  TAG_BYTES,
  isBlockLength,
  poolCarriesCopies,
  type CopyBinding,
  type WrappedCopy,
} from '../../protocol/credential-wrap.js';
import { MAX_DOMAIN_UNITS, MAX_USER_UNITS } from '../../protocol/windows-logon-credential.js';
import type { PinCharset } from '../../protocol/offline-pin.js';

export interface PinCopy extends WrappedCopy {
  readonly holder: 'pin';
  readonly poolId: string;
  readonly c: number;
}

export interface PhoneCopy extends WrappedCopy {
  readonly holder: 'phone';
  readonly deviceId: string;
  /**
   * The phone's CK.pub (base64url) the copy was sealed to: a phone that pairs again keeps its
   * deviceId and gets a new credential key, and the copy sealed to the old one is then no live holder's.
   */
  readonly credentialKey: string;
}

export type CredentialCopy = PinCopy | PhoneCopy;

/** The account the password belongs to and its copies (docs/windows.md §6.4). */
export interface WindowsCredentialState {
  /** The account's SID: part of every copy's binding. */
  readonly sid: string;
  /** The NetBIOS domain, or the computer name for a local account (docs/windows.md §5). */
  readonly domain: string;
  /** The SAM account name. */
  readonly user: string;
  /** Counts the captures of this account's password (§6.6); every copy is bound to it. */
  readonly generation: number;
  /** Windows refused this capture's password when it was handed back (docs/windows.md §6.6): none is handed back until the next capture. */
  readonly stale?: true;
  readonly copies: readonly CredentialCopy[];
}

/** What a report that Windows refused the handed-back password of capture `generation` comes to (docs/windows.md §6.6). */
export type StaleMark = 'marked' | 'already-stale' | 'older-generation' | 'unknown-generation' | 'no-credential';

/**
 * The credential with the capture `generation` marked stale — only the current capture: a report
 * about an older one comes after a capture made a newer password (ignored), one about a newer one
 * names no capture made here (ignored, fail closed). The next capture starts unmarked.
 */
export function markStale(
  credential: WindowsCredentialState | null,
  generation: number,
): { readonly credential: WindowsCredentialState | null; readonly mark: StaleMark } {
  if (credential === null) return { credential, mark: 'no-credential' };
  if (generation < credential.generation) return { credential, mark: 'older-generation' };
  if (generation > credential.generation) return { credential, mark: 'unknown-generation' };
  if (credential.stale === true) return { credential, mark: 'already-stale' };
  return { credential: { ...credential, stale: true }, mark: 'marked' };
}

/** The parts of a user state that say where a copy may sit. */
export interface CopyHolders {
  readonly pools: readonly HolderPool[];
  readonly pendingPools: readonly { readonly pool: HolderPool }[];
  readonly devices: readonly { readonly deviceId: string; readonly credentialKey?: string | undefined }[];
  readonly blePhones: readonly { readonly deviceId: string; readonly credentialKey?: string | undefined }[];
  readonly windowsCredential: WindowsCredentialState | null;
}

interface HolderPool {
  readonly poolId: string;
  readonly charset: PinCharset;
  readonly length: number;
  readonly next: number;
  readonly limit: number;
  readonly verifier?: string | undefined;
}

/** 16 pools of 100 PINs, and 16 phones paired online and 16 over Bluetooth. */
export const MAX_CREDENTIAL_COPIES = 16 * 100 + 2 * 16;
export const SID_PATTERN = /^S-1-[0-9]{1,13}(-[0-9]{1,10}){0,15}$/;

/** Where a copy sits: a PIN (its pool and counter) or a paired phone (its device and the credential key it has now). */
export type CopyHolder =
  | Pick<PinCopy, 'holder' | 'poolId' | 'c'>
  | Pick<PhoneCopy, 'holder' | 'deviceId' | 'credentialKey'>;

/** The binding a copy's aad carries (docs/windows.md §6.4): where it sits, for which capture of whose password. */
export function bindingOf(credential: Pick<WindowsCredentialState, 'sid' | 'generation'>, at: CopyHolder): CopyBinding {
  const { sid, generation } = credential;
  return at.holder === 'pin'
    ? { holder: 'pin', sid, generation, poolId: at.poolId, c: at.c }
    : { holder: 'phone', sid, generation, deviceId: at.deviceId };
}

/** What a copy is held by: one copy per (pin, pool, counter) or (phone, device, credential key). */
export function holderKey(at: CopyHolder): string {
  return at.holder === 'pin' ? `pin ${at.poolId} ${at.c}` : `phone ${at.deviceId} ${at.credentialKey}`;
}

/** Whether a pool's PINs get copies: the `argon2id-hkdf-v1` format, and PINs of at least 40 bits (docs/windows.md §6.7). */
export function poolTakesCopies(pool: HolderPool): boolean {
  return pool.verifier !== undefined && poolCarriesCopies(pool.charset, pool.length);
}

/** Every place a copy may sit right now: each live counter of a pool that takes copies, each phone with the credential key it has now. */
export function liveHolders(state: Omit<CopyHolders, 'windowsCredential'>): Set<string> {
  const holders = new Set<string>();
  for (const pool of [...state.pools, ...state.pendingPools.map((pending) => pending.pool)])
    if (poolTakesCopies(pool))
      for (let c = pool.next; c < pool.limit; c++) holders.add(holderKey({ holder: 'pin', poolId: pool.poolId, c }));
  for (const phone of [...state.devices, ...state.blePhones])
    if (phone.credentialKey !== undefined)
      holders.add(holderKey({ holder: 'phone', deviceId: phone.deviceId, credentialKey: phone.credentialKey }));
  return holders;
}

/** Why the copies cannot be as they are (docs/windows.md §6.4: the state is then unreadable), or null. */
export function copiesProblem(state: CopyHolders): string | null {
  const credential = state.windowsCredential;
  if (credential === null) return null;
  const live = liveHolders(state);
  const seen = new Set<string>();
  for (const copy of credential.copies) {
    const key = holderKey(copy);
    if (seen.has(key)) return `holds two copies of the Windows password for ${key}`;
    seen.add(key);
    if (!live.has(key)) return `holds a copy of the Windows password for ${key}, which is not a live holder`;
  }
  return null;
}

/** The state with only the copies whose holder is still live (a spent or replaced PIN, an unpaired or re-paired phone: gone). */
export function withLiveCopies<T extends CopyHolders>(state: T): T {
  const credential = state.windowsCredential;
  if (credential === null) return state;
  const live = liveHolders(state);
  const copies = credential.copies.filter((copy) => live.delete(holderKey(copy)));
  return copies.length === credential.copies.length
    ? state
    : { ...state, windowsCredential: { ...credential, copies } };
}

const b64uBytes = (check: (length: number) => boolean, what: string) =>
  v.pipe(
    v.string(),
    v.regex(/^[A-Za-z0-9_-]*$/),
    v.transform((text) => new Uint8Array(Buffer.from(text, 'base64url'))),
    v.check((bytes) => check(bytes.length), `must decode to ${what}`),
  );
const wrapped = {
  eph: b64uBytes((n) => n === KEY_BYTES, `${KEY_BYTES} bytes`),
  nonce: b64uBytes((n) => n === NONCE_BYTES, `${NONCE_BYTES} bytes`),
  ciphertext: b64uBytes((n) => isBlockLength(n - TAG_BYTES), 'whole 64-byte blocks and a tag'),
};
const text = (max: number) =>
  v.pipe(
    v.string(),
    v.minLength(1),
    v.maxLength(max),
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what this pattern is for
    v.regex(/^[^\u0000-\u001f\u007f]*$/),
  );

/**
 * In a journal record, `copies` may be this instead of the list: the previous record's copies of
 * the same capture, less those whose holder is gone (docs/state-files.md "Carried copies").
 */
export const CARRIED_COPIES = 'previous-record';

export const WindowsCredentialSchema = v.strictObject({
  sid: v.pipe(v.string(), v.regex(SID_PATTERN)),
  domain: text(MAX_DOMAIN_UNITS),
  user: text(MAX_USER_UNITS),
  generation: v.pipe(v.number(), v.safeInteger(), v.minValue(1)),
  stale: v.optional(v.literal(true)),
  copies: v.union([
    v.pipe(
      v.array(
        v.variant('holder', [
          v.strictObject({
            holder: v.literal('pin'),
            poolId: v.pipe(v.string(), v.regex(/^[0-9a-f]{32}$/)),
            c: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
            ...wrapped,
          }),
          v.strictObject({
            holder: v.literal('phone'),
            deviceId: v.pipe(v.string(), v.regex(/^[A-Za-z0-9._-]{1,64}$/)),
            credentialKey: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{43}$/)),
            ...wrapped,
          }),
        ]),
      ),
      v.maxLength(MAX_CREDENTIAL_COPIES),
    ),
    v.literal(CARRIED_COPIES),
  ]),
});

type StoredCredential = v.InferOutput<typeof WindowsCredentialSchema>;

const sameCapture = (a: Omit<WindowsCredentialState, 'copies'>, b: Omit<WindowsCredentialState, 'copies'>) =>
  a.sid === b.sid && a.domain === b.domain && a.user === b.user && a.generation === b.generation;

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.compare(a, b) === 0;

/** True when `state`'s copies are exactly the previous record's of the same capture less those whose holder is gone. */
export function copiesCarriable(state: CopyHolders, previous: WindowsCredentialState | null): boolean {
  const credential = state.windowsCredential;
  if (credential === null || previous === null || !sameCapture(credential, previous)) return false;
  const kept = withLiveCopies({ ...state, windowsCredential: previous }).windowsCredential!.copies;
  return (
    kept.length === credential.copies.length &&
    kept.every((copy, i) => {
      const now = credential.copies[i]!;
      return (
        copy === now ||
        (holderKey(copy) === holderKey(now) &&
          sameBytes(copy.eph, now.eph) &&
          sameBytes(copy.nonce, now.nonce) &&
          sameBytes(copy.ciphertext, now.ciphertext))
      );
    })
  );
}

/**
 * A stored windowsCredential as the state holds it: carried copies taken from `previous` (the
 * record before; null for a journal's first) less those whose holder `holders` no longer has.
 * Throws an Error saying what is wrong; the journal reader makes it StateUnreadableError.
 */
export function resolveStoredCredential(
  stored: StoredCredential | null,
  holders: Omit<CopyHolders, 'windowsCredential'>,
  previous: WindowsCredentialState | null,
): WindowsCredentialState | null {
  if (stored === null || stored.copies !== CARRIED_COPIES) return stored as WindowsCredentialState | null;
  if (previous === null || !sameCapture(stored, previous))
    throw new Error('carries the copies of a Windows password the previous record does not hold');
  return withLiveCopies({ ...holders, windowsCredential: { ...stored, copies: previous.copies } }).windowsCredential;
}

const b64u = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');

export function windowsCredentialToJson(credential: WindowsCredentialState, carried = false): unknown {
  return {
    ...credential,
    copies: carried
      ? CARRIED_COPIES
      : credential.copies.map((copy) => ({
          ...copy,
          eph: b64u(copy.eph),
          nonce: b64u(copy.nonce),
          ciphertext: b64u(copy.ciphertext),
        })),
  };
}
