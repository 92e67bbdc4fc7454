/**
 * docs/windows.md §6.3 and §6.5 against the Python vectors (online-protocol.json,
 * windows-credential.json): the credential key under the device MAC and proof, the signed
 * credential request, the approval over a release; then the phone's decision and the agent's
 * opening end to end with a copy made by protocol/credential-wrap.ts — and every refusal.
 */
import { readFileSync } from 'node:fs';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { fromHex } from '../../../protocol/bytes.js';
import { openCopy, wrapCredential, x25519PairFromSeed, type CopyBinding } from '../../../protocol/credential-wrap.js';
import { ED25519, X25519, generateKeyPair, importPrivateKey } from '../../../protocol/crypto/webcrypto.js';
import { checkApproval, signApproval, type ApprovalFields } from '../../../protocol/online/approvals.js';
import { fromBase64url, toBase64url } from '../../../protocol/online/base64url.js';
import {
  CredentialRequestSchema,
  checkCredentialRequest,
  openPhoneRelease,
  phoneRelease,
  signCredentialRequest,
  type CredentialRequestBody,
} from '../../../protocol/online/credential-release.js';
import { CreateAuthRequestSchema, DecisionRequestSchema } from '../../../protocol/online/http-bodies.js';
import { checkDeviceProof, deviceMac, type DeviceKeys } from '../../../protocol/online/pairing-keys.js';

const online = JSON.parse(readFileSync(new URL('../../vectors/online-protocol.json', import.meta.url), 'utf8'));
const windows = JSON.parse(readFileSync(new URL('../../vectors/windows-credential.json', import.meta.url), 'utf8'));
const edPrivate = () => importPrivateKey(ED25519, fromBase64url(online.ed25519.pkcs8));
const edPublic = fromBase64url(online.ed25519.publicKey);

describe('the credential key in an online pairing (§6.3)', () => {
  it('is under the device MAC and the proof as Python computes them; without it the transcripts are the old ones', async () => {
    const pairingKey = fromBase64url(online.pairing.pairingKey);
    const keyed = online.pairingWithCredentialKey;
    expect(toBase64url(deviceMac(pairingKey, keyed.deviceKeys))).toBe(keyed.deviceMac);
    expect(await checkDeviceProof(keyed.deviceKeys, keyed.proof)).toBe(true);
    const { credentialKey: _dropped, ...without } = keyed.deviceKeys as DeviceKeys;
    expect(toBase64url(deviceMac(pairingKey, without))).toBe(online.pairing.deviceMac);
    expect(toBase64url(deviceMac(pairingKey, { ...without, credentialKey: undefined }))).toBe(online.pairing.deviceMac);
    // A Control Center that swaps or drops the key breaks both.
    const swapped = { ...keyed.deviceKeys, credentialKey: toBase64url(new Uint8Array(32).fill(1)) };
    expect(toBase64url(deviceMac(pairingKey, swapped))).not.toBe(keyed.deviceMac);
    expect(await checkDeviceProof(swapped, keyed.proof)).toBe(false);
    expect(await checkDeviceProof(without, keyed.proof)).toBe(false);
  });
});

describe('the credential request and the approval with a release (§6.5)', () => {
  const { context, body } = online.credentialRequest as {
    context: { challenge: string; user: string; workstationId: string };
    body: CredentialRequestBody;
  };

  it('signs the request exactly as Python does, and refuses any change', async () => {
    const { signature: _s, ...unsigned } = body;
    expect(await signCredentialRequest(context, unsigned, await edPrivate())).toEqual(body);
    expect(await checkCredentialRequest(context, body, edPublic)).toBe(true);
    for (const changed of [
      { ...context, user: 'juergen' },
      { ...context, challenge: toBase64url(new Uint8Array(32).fill(1)) },
      { ...context, workstationId: 'ws_0123456789ABCDEFGHJKMNPQRT' },
    ])
      expect(await checkCredentialRequest(changed, body, edPublic)).toBe(false);
    const otherQ = { ...body, requestKey: toBase64url(new Uint8Array(32).fill(2)) };
    expect(await checkCredentialRequest(context, otherQ, edPublic)).toBe(false);
    const otherDevice = { ...body, copies: [{ ...body.copies[0]!, deviceId: 'dev_0123456789ABCDEFGHJKMNPQRT' }] };
    expect(await checkCredentialRequest(context, otherDevice, edPublic)).toBe(false);
  });

  it('signs the approval over its release; a changed release breaks the signature', async () => {
    const { fields, signature } = online.approvalWithRelease as { fields: ApprovalFields; signature: string };
    expect(await signApproval(fields, await edPrivate())).toBe(signature);
    expect(await checkApproval(fields, signature, edPublic)).toBe(true);
    const { release: _r, ...bare } = fields;
    expect(await checkApproval(bare, signature, edPublic)).toBe(false);
    const tampered = { ...fields, release: { ...fields.release!, ciphertext: 'A'.repeat(64) } };
    expect(await checkApproval(tampered, signature, edPublic)).toBe(false);
    expect(await signApproval(online.approval.fields, await edPrivate())).toBe(online.approval.signature);
  });

  it('bodies: the shape is checked, sizes are limits, the message names the field', () => {
    const base = { user: 'alice', challenge: 'A'.repeat(43), ttlMs: 30_000 };
    expect(v.safeParse(CreateAuthRequestSchema, { ...base, credential: body }).success).toBe(true);
    const copy = body.copies[0]!;
    const bad: [string, unknown][] = [
      ['no copies', { ...body, copies: [] }],
      [
        '17 copies',
        {
          ...body,
          copies: Array.from({ length: 17 }, (_, i) => ({ ...copy, deviceId: `dev_${String(i).padStart(26, '0')}` })),
        },
      ],
      ['one device twice', { ...body, copies: [copy, copy] }],
      ['a short key', { ...body, requestKey: 'A'.repeat(42) }],
      ['a long eph', { ...body, copies: [{ ...copy, eph: 'A'.repeat(44) }] }],
      ['not a dev_ id', { ...body, copies: [{ ...copy, deviceId: 'ble-7K2QD' }] }],
      ['a stray field', { ...body, password: 'hunter2' }],
      ['no signature', { requestKey: body.requestKey, copies: body.copies }],
    ];
    for (const [name, credential] of bad) {
      const parsed = v.safeParse(CreateAuthRequestSchema, { ...base, credential });
      expect(parsed.success, name).toBe(false);
    }
    const release = online.approvalWithRelease.fields.release;
    const decision = { decision: 'approve', signedAt: 1, signature: 'S'.repeat(86) };
    expect(v.safeParse(DecisionRequestSchema, { ...decision, release }).success).toBe(true);
    for (const changed of [
      { ...release, ciphertext: `${release.ciphertext}AAAA` },
      { ...release, nonce: 'A'.repeat(15) },
      { ...release, k: 'A'.repeat(43) },
    ])
      expect(v.safeParse(DecisionRequestSchema, { ...decision, release: changed }).success).toBe(false);
    expect(v.safeParse(CredentialRequestSchema, body).success).toBe(true);
  });
});

describe('a release end to end: the phone decides, the agent opens (§6.5)', () => {
  const phoneCase = windows.copies.find((c: { binding: CopyBinding }) => c.binding.holder === 'phone');
  const binding = phoneCase.binding as CopyBinding & { deviceId: string };
  const password = fromHex(phoneCase.passwordHex);

  async function setting() {
    const workstation = await generateKeyPair(ED25519);
    const credentialKey = await x25519PairFromSeed(fromHex(phoneCase.recipientSeedHex));
    const copy = await wrapCredential(credentialKey.publicKey, password, binding);
    const q = await generateKeyPair(X25519);
    const requestKey = { privateKey: q.privateKey, publicKey: q.publicKey };
    const context = {
      challenge: toBase64url(new Uint8Array(32).fill(7)),
      user: 'alice',
      workstationId: 'ws_0123456789ABCDEFGHJKMNPQRS',
    };
    const unsigned = {
      requestKey: toBase64url(requestKey.publicKey),
      copies: [
        { deviceId: 'dev_ZZZZZZZZZZZZZZZZZZZZZZZZZZ', eph: toBase64url(new Uint8Array(32).fill(9)) },
        { deviceId: binding.deviceId, eph: toBase64url(copy.eph) },
      ],
    };
    const credential = await signCredentialRequest(context, unsigned, workstation.privateKey);
    const request = { ...context, requestId: 'ar_0123456789ABCDEFGHJKMNPQRS', credential };
    const phone = { deviceId: binding.deviceId, workstationKey: workstation.publicKey, credentialKey };
    return { workstation, credentialKey, copy, requestKey, context, request, phone, unsigned };
  }

  it('releases only this device’s copy key; Q opens it; the copy made by credential-wrap opens with it', async () => {
    const s = await setting();
    const released = await phoneRelease(s.request, s.phone);
    if (released.kind !== 'release') throw new Error(released.kind);
    // Only public keys and ciphertext travel: the password is nowhere in it.
    expect(JSON.stringify(released)).not.toContain(Buffer.from(password).toString('base64url'));
    const ids = { ...s.context, requestId: s.request.requestId, deviceId: binding.deviceId };
    const key = await openPhoneRelease(s.requestKey, released.release, ids);
    expect(key).not.toBeNull();
    const opened = await openCopy(key!, s.copy, binding);
    expect(opened).toEqual({ ok: true, password });
  });

  it('refuses a forged request, a request without its own copy, a replayed or tampered release', async () => {
    const s = await setting();
    // Forged: signed by another key (a rogue Control Center), or changed after signing.
    const rogue = await generateKeyPair(ED25519);
    const forged = await signCredentialRequest(s.context, s.unsigned, rogue.privateKey);
    expect(await phoneRelease({ ...s.request, credential: forged }, s.phone)).toEqual({ kind: 'forged' });
    const swappedQ = { ...s.request.credential, requestKey: toBase64url((await generateKeyPair(X25519)).publicKey) };
    expect(await phoneRelease({ ...s.request, credential: swappedQ }, s.phone)).toEqual({ kind: 'forged' });
    expect(await phoneRelease({ ...s.request, user: 'mallory' }, s.phone)).toEqual({ kind: 'forged' });
    // Mismatched: a request whose copies name only another device releases nothing.
    const othersOnly = await signCredentialRequest(
      s.context,
      { ...s.unsigned, copies: [s.unsigned.copies[0]!] },
      s.workstation.privateKey,
    );
    expect(await phoneRelease({ ...s.request, credential: othersOnly }, s.phone)).toEqual({ kind: 'none' });
    // A pairing without a credential key releases nothing either.
    expect(await phoneRelease(s.request, { ...s.phone, credentialKey: null })).toEqual({ kind: 'none' });
    // A low-order eph a workstation never sends: refused as forged.
    const lowOrder = await signCredentialRequest(
      s.context,
      { ...s.unsigned, copies: [{ deviceId: binding.deviceId, eph: toBase64url(new Uint8Array(32)) }] },
      s.workstation.privateKey,
    );
    expect(await phoneRelease({ ...s.request, credential: lowOrder }, s.phone)).toEqual({ kind: 'forged' });

    const released = await phoneRelease(s.request, s.phone);
    if (released.kind !== 'release') throw new Error(released.kind);
    const ids = { ...s.context, requestId: s.request.requestId, deviceId: binding.deviceId };
    // Replayed to a later request: that request's Q is another key, and its ids differ.
    const later = await generateKeyPair(X25519);
    expect(
      await openPhoneRelease({ privateKey: later.privateKey, publicKey: later.publicKey }, released.release, ids),
    ).toBeNull();
    expect(
      await openPhoneRelease(s.requestKey, released.release, { ...ids, requestId: 'ar_1123456789ABCDEFGHJKMNPQRS' }),
    ).toBeNull();
    expect(
      await openPhoneRelease(s.requestKey, released.release, { ...ids, deviceId: 'dev_ZZZZZZZZZZZZZZZZZZZZZZZZZZ' }),
    ).toBeNull();
    // Tampered: any flipped byte of the ciphertext, a malformed box.
    const ct = fromBase64url(released.release.ciphertext);
    ct[5]! ^= 1;
    expect(await openPhoneRelease(s.requestKey, { ...released.release, ciphertext: toBase64url(ct) }, ids)).toBeNull();
    expect(await openPhoneRelease(s.requestKey, { ...released.release, nonce: 'A' }, ids)).toBeNull();
  });
});
