/**
 * The agent's half of a phone's release (docs/windows.md §6.5), pure: the credential request it
 * builds from the user's state (only phones with a credential key and a copy), and the logon
 * credential it makes of a release — or the refusal, for each way a release can be wrong.
 */
import { describe, expect, it } from 'vitest';
import {
  bleCopyEphs,
  buildCredentialAsk,
  logonCredentialFromCopyKey,
  logonCredentialFromRelease,
  type CredentialHolderState,
} from '../../../agent/online/phone-credential-release.js';
import type { PhoneCopy, PinCopy, WindowsCredentialState } from '../../../agent/state/windows-credential.js';
import { copyKeyFor, wrapCredential, type X25519Pair } from '../../../protocol/credential-wrap.js';
import { ED25519, X25519, generateKeyPair } from '../../../protocol/crypto/webcrypto.js';
import { fromBase64url, toBase64url } from '../../../protocol/online/base64url.js';
import { checkCredentialRequest, phoneRelease } from '../../../protocol/online/credential-release.js';
import { decodeLogonCredential, utf16le } from '../../../protocol/windows-logon-credential.js';
import { phoneCopyAtRest } from '../../helpers/phone-release.js';

const SID = 'S-1-5-21-1004336348-1177238915-682003330-1001';
const PHONE = 'dev_0123456789ABCDEFGHJKMNPQRS';
const OLD_PHONE = 'dev_1123456789ABCDEFGHJKMNPQRS';
const BLE_PHONE = 'ble-7K2QD';
const PASSWORD = 'correct horse ☃ battery';
const context = {
  challenge: toBase64url(new Uint8Array(32).fill(4)),
  user: 'alice',
  workstationId: 'ws_0123456789ABCDEFGHJKMNPQRS',
};

async function x25519Pair(): Promise<X25519Pair> {
  const pair = await generateKeyPair(X25519);
  return { privateKey: pair.privateKey, publicKey: pair.publicKey };
}

function phoneCopy(recipient: Uint8Array, deviceId: string, generation = 3) {
  return phoneCopyAtRest(recipient, PASSWORD, { sid: SID, generation, deviceId });
}

/** A PIN's copy (§6.2): never asked of a phone. */
async function pinCopy(recipient: Uint8Array): Promise<PinCopy> {
  const at = { poolId: 'pool-1', c: 0 };
  const copy = await wrapCredential(recipient, utf16le(PASSWORD), { holder: 'pin', sid: SID, generation: 3, ...at });
  return { holder: 'pin', ...at, ...copy };
}

async function setting() {
  const workstation = await generateKeyPair(ED25519);
  const phoneKey = await x25519Pair();
  const bleKey = await x25519Pair();
  const credential: WindowsCredentialState = {
    sid: SID,
    domain: 'DESK-042',
    user: 'alice',
    generation: 3,
    copies: [
      await pinCopy((await x25519Pair()).publicKey),
      await phoneCopy(phoneKey.publicKey, PHONE),
      await phoneCopy((await x25519Pair()).publicKey, OLD_PHONE),
      await phoneCopy(bleKey.publicKey, BLE_PHONE),
    ],
  };
  const state: CredentialHolderState = {
    devices: [
      { deviceId: PHONE, credentialKey: toBase64url(phoneKey.publicKey) },
      { deviceId: OLD_PHONE }, // paired before credential keys: never asked
    ],
    windowsCredential: credential,
  };
  return { workstation, phoneKey, bleKey, credential, state };
}

describe('the credential request the agent builds', () => {
  it('names only phones paired online with a credential key and a copy, signed with the workstation key', async () => {
    const s = await setting();
    const ask = await buildCredentialAsk(s.state, context, s.workstation.privateKey);
    expect(ask?.body.copies.map((c) => c.deviceId)).toEqual([PHONE]);
    expect(await checkCredentialRequest(context, ask!.body, s.workstation.publicKey)).toBe(true);
    expect(ask!.body.requestKey).toBe(toBase64url(ask!.requestKey.publicKey));
    // A fresh Q per request.
    const again = await buildCredentialAsk(s.state, context, s.workstation.privateKey);
    expect(again!.body.requestKey).not.toBe(ask!.body.requestKey);
  });

  it('asks nothing without a credential, or without a phone that could release one', async () => {
    const s = await setting();
    expect(
      await buildCredentialAsk({ ...s.state, windowsCredential: null }, context, s.workstation.privateKey),
    ).toBeNull();
    expect(await buildCredentialAsk({ devices: s.state.devices }, context, s.workstation.privateKey)).toBeNull();
    const onlyOld = { ...s.state, devices: [{ deviceId: OLD_PHONE }] };
    expect(await buildCredentialAsk(onlyOld, context, s.workstation.privateKey)).toBeNull();
  });
});

describe('a release turned into the logon credential', () => {
  it("opens with Q, then the phone's copy with k: the user's name, domain and password", async () => {
    const s = await setting();
    const ask = (await buildCredentialAsk(s.state, context, s.workstation.privateKey))!;
    const requestId = 'ar_0123456789ABCDEFGHJKMNPQRS';
    const released = await phoneRelease(
      { ...context, requestId, credential: ask.body },
      { deviceId: PHONE, workstationKey: s.workstation.publicKey, credentialKey: s.phoneKey },
    );
    if (released.kind !== 'release') throw new Error(released.kind);
    const opened = await logonCredentialFromRelease(
      ask,
      { requestId, deviceId: PHONE, release: released.release },
      context,
      s.credential,
    );
    if (!opened.ok) throw new Error(opened.code);
    const decoded = decodeLogonCredential(opened.logonCredential);
    expect(decoded.ok && { ...decoded.credential, password: Buffer.from(decoded.credential.password) }).toEqual({
      domain: 'DESK-042',
      user: 'alice',
      password: Buffer.from(utf16le(PASSWORD)),
    });

    // No release, a replay to a later request (another Q), another request id, a tampered box.
    const approval = { requestId, deviceId: PHONE, release: released.release };
    expect(await logonCredentialFromRelease(ask, { requestId, deviceId: PHONE }, context, s.credential)).toMatchObject({
      ok: false,
      code: 'no-release',
    });
    const later = (await buildCredentialAsk(s.state, context, s.workstation.privateKey))!;
    expect(await logonCredentialFromRelease(later, approval, context, s.credential)).toMatchObject({
      code: 'release-unopenable',
    });
    expect(
      await logonCredentialFromRelease(
        ask,
        { ...approval, requestId: 'ar_1123456789ABCDEFGHJKMNPQRS' },
        context,
        s.credential,
      ),
    ).toMatchObject({ code: 'release-unopenable' });
    const flipped = fromBase64url(released.release.ciphertext);
    flipped[0]! ^= 1;
    const tampered = { ...released.release, ciphertext: toBase64url(flipped) };
    expect(
      await logonCredentialFromRelease(ask, { ...approval, release: tampered }, context, s.credential),
    ).toMatchObject({ code: 'release-unopenable' });
    // A copy that no longer matches its binding (a newer generation recorded) does not open with that k.
    expect(await logonCredentialFromRelease(ask, approval, context, { ...s.credential, generation: 4 })).toMatchObject({
      code: 'copy-unopenable',
    });
  });

  it("over Bluetooth: k from the pairing's credential key opens that phone's copy, and no other", async () => {
    const s = await setting();
    const bleCopy = s.credential.copies[3] as PhoneCopy;
    const key = await copyKeyFor(s.bleKey, bleCopy.eph);
    const opened = await logonCredentialFromCopyKey(key!, s.credential, BLE_PHONE);
    expect(opened.ok).toBe(true);
    expect(await logonCredentialFromCopyKey(key!, s.credential, PHONE)).toMatchObject({ code: 'copy-unopenable' });
    expect(await logonCredentialFromCopyKey(key!, s.credential, 'ble-00000')).toMatchObject({ code: 'no-copy' });
  });
});

describe('the copies a Bluetooth unlock asks to release', () => {
  it('names each BLE phone with a credential key and a copy by its eph, and nothing else', async () => {
    const s = await setting();
    const ble = s.credential.copies[3] as PhoneCopy;
    const phones = [{ deviceId: BLE_PHONE, credentialKey: toBase64url(s.bleKey.publicKey) }, { deviceId: 'ble-00000' }];
    expect(bleCopyEphs(phones, s.credential)).toEqual({
      [BLE_PHONE]: ble.eph,
    });
    expect(bleCopyEphs([{ deviceId: BLE_PHONE }], s.credential)).toBeNull();
    expect(bleCopyEphs(phones, null)).toBeNull();
  });
});
