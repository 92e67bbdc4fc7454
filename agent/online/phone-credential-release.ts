/**
 * The agent's half of a phone's release (docs/windows.md §6.5), for a Windows lock-screen
 * connection from SYSTEM only: build the signed credential request from the user's state, and
 * turn what the phone released into the logon credential of docs/windows.md §5. Pure (no I/O):
 * the request key's private half lives in the returned ask, in memory, for this request only.
 */
import { openCopy, type CopyBinding, type X25519Pair } from '../../protocol/credential-wrap.js';
import { toBase64url } from '../../protocol/online/base64url.js';
import { openPhoneRelease, signCredentialRequest } from '../../protocol/online/credential-release.js';
import type { CredentialRequestBody, CredentialRequestContext } from '../../protocol/online/credential-release.js';
import type { ReleaseBody } from '../../protocol/online/credential-release.js';
import { X25519, generateKeyPair, type CryptoKey } from '../../protocol/crypto/webcrypto.js';
import { encodeLogonCredential } from '../../protocol/windows-logon-credential.js';
import type { PhoneCopy, WindowsCredentialState } from '../state/windows-credential.js';

/** What of the user's state a release needs: the online phones (with their credential keys) and the copies. */
export interface CredentialHolderState {
  readonly devices: readonly { readonly deviceId: string; readonly credentialKey?: string | undefined }[];
  readonly windowsCredential?: WindowsCredentialState | null;
}

export interface CredentialAsk {
  /** Q: its private half exists only here, for this one request. */
  readonly requestKey: X25519Pair;
  readonly body: CredentialRequestBody;
}

export type CredentialOpening =
  | { ok: true; logonCredential: Uint8Array; generation: number }
  | {
      ok: false;
      code: 'no-release' | 'release-unopenable' | 'no-copy' | 'copy-unopenable' | 'copy-malformed' | 'bad-key';
      message: string;
    };

function phoneCopies(credential: WindowsCredentialState): PhoneCopy[] {
  return credential.copies.filter((copy): copy is PhoneCopy => copy.holder === 'phone');
}

/** The copy of `deviceId` (an online `dev_…` or a Bluetooth `ble-…` phone), if the state holds one. */
export function phoneCopyOf(credential: WindowsCredentialState | null | undefined, deviceId: string): PhoneCopy | null {
  return credential ? (phoneCopies(credential).find((copy) => copy.deviceId === deviceId) ?? null) : null;
}

/**
 * For a Bluetooth unlock (docs/ble-protocol.md §5.1, request 0x02): per BLE phone with a
 * credential key and a copy sealed to that key, that copy's eph; null when none could release one.
 */
export function bleCopyEphs(
  phones: readonly { readonly deviceId: string; readonly credentialKey?: string | undefined }[],
  credential: WindowsCredentialState | null | undefined,
): Record<string, Uint8Array> | null {
  const entries = phones.flatMap((phone) => {
    const copy = phoneCopyOf(credential, phone.deviceId);
    return copy && copy.credentialKey === phone.credentialKey ? [[phone.deviceId, copy.eph] as const] : [];
  });
  return entries.length > 0 ? Object.fromEntries(entries) : null;
}

/**
 * The credential request for an online sign-in, or null when no phone paired online holds a copy
 * sealed to the credential key it has now (a phone without one never has a copy). Signed with the workstation key.
 */
export async function buildCredentialAsk(
  state: CredentialHolderState,
  context: CredentialRequestContext,
  workstationKey: CryptoKey,
): Promise<CredentialAsk | null> {
  const credential = state.windowsCredential;
  if (!credential) return null;
  const keyed = new Map(state.devices.map((d) => [d.deviceId, d.credentialKey]));
  const copies = phoneCopies(credential)
    .filter((copy) => keyed.get(copy.deviceId) === copy.credentialKey)
    .map(({ deviceId, eph }) => ({ deviceId, eph: toBase64url(eph) }));
  if (copies.length === 0) return null;
  const pair = await generateKeyPair(X25519);
  pair.pkcs8.fill(0);
  const requestKey = { privateKey: pair.privateKey, publicKey: pair.publicKey };
  const body = await signCredentialRequest(
    context,
    { requestKey: toBase64url(requestKey.publicKey), copies },
    workstationKey,
  );
  return { requestKey, body };
}

/**
 * What to do with the password while a release holds it open (the caller seals the copies live
 * holders lack, docs/windows.md §6.6); the password is wiped after, whatever it did.
 */
export type WhileOpen = (password: Uint8Array) => Promise<void>;

/** An approval's release opened with Q, then the phone's copy opened with k (wiped after). */
export async function logonCredentialFromRelease(
  ask: CredentialAsk,
  approval: { readonly requestId: string; readonly deviceId: string; readonly release?: ReleaseBody },
  context: CredentialRequestContext,
  credential: WindowsCredentialState,
  whileOpen?: WhileOpen,
): Promise<CredentialOpening> {
  if (approval.release === undefined)
    return { ok: false, code: 'no-release', message: 'the phone approved without releasing the Windows password' };
  const key = await openPhoneRelease(ask.requestKey, approval.release, {
    ...context,
    requestId: approval.requestId,
    deviceId: approval.deviceId,
  });
  if (key === null)
    return { ok: false, code: 'release-unopenable', message: 'the release does not open for this request' };
  try {
    return await logonCredentialFromCopyKey(key, credential, approval.deviceId, whileOpen);
  } finally {
    key.fill(0);
  }
}

/** The logon credential from a copy key k a phone released (online, or over Bluetooth). */
export async function logonCredentialFromCopyKey(
  key: Uint8Array,
  credential: WindowsCredentialState,
  deviceId: string,
  whileOpen?: WhileOpen,
): Promise<CredentialOpening> {
  const copy = phoneCopyOf(credential, deviceId);
  if (copy === null) return { ok: false, code: 'no-copy', message: 'this phone holds no copy of the password' };
  const binding: CopyBinding = {
    holder: 'phone',
    sid: credential.sid,
    generation: credential.generation,
    deviceId,
  };
  const opened = await openCopy(key, copy, binding);
  if (!opened.ok) return opened;
  try {
    await whileOpen?.(opened.password);
    return {
      ok: true,
      generation: credential.generation,
      logonCredential: encodeLogonCredential({
        domain: credential.domain,
        user: credential.user,
        password: opened.password,
      }),
    };
  } finally {
    opened.password.fill(0);
  }
}
