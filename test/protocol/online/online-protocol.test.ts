/** docs/online-protocol.md against vectors from an independent Python implementation. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkApproval, signApproval, type ApprovalFields } from '../../../protocol/online/approvals.js';
import { fromBase64url, fromBase64urlOfLength, toBase64url } from '../../../protocol/online/base64url.js';
import { canonicalJson, transcript } from '../../../protocol/online/canonical-json.js';
import { derivePairingKey, deviceMac, formatPairingCode, newPairingId } from '../../../protocol/online/pairing-keys.js';
import { newPairingSecret, parsePairingCode } from '../../../protocol/online/pairing-keys.js';
import { openPoolEnvelope, sealPoolEnvelope, type PoolContents } from '../../../protocol/online/pool-envelope.js';
import { checkRequestSignature, signRequest } from '../../../protocol/online/request-signing.js';
import { checkSignedPolicy, signPolicy, type PolicyDocument } from '../../../protocol/online/signed-policy.js';
import { ED25519, X25519, generateKeyPair, importPrivateKey, publicKeyOf } from '../../../protocol/crypto/webcrypto.js';
import { DEFAULT_POLICY } from '../../../protocol/policy-settings.js';

const vectors = JSON.parse(readFileSync(new URL('../../vectors/online-protocol.json', import.meta.url), 'utf8'));
const edPrivate = () => importPrivateKey(ED25519, fromBase64url(vectors.ed25519.pkcs8));
const edPublic = fromBase64url(vectors.ed25519.publicKey);

describe('encodings', () => {
  it('base64url round-trips and refuses what no encoder makes', () => {
    for (let n = 0; n < 40; n++) {
      const bytes = crypto.getRandomValues(new Uint8Array(n));
      expect(fromBase64url(toBase64url(bytes))).toEqual(bytes);
      expect(toBase64url(bytes)).toBe(Buffer.from(bytes).toString('base64url'));
    }
    expect(() => fromBase64url('AAA=')).toThrow(/outside/);
    expect(() => fromBase64url('A')).toThrow(/length/);
    expect(() => fromBase64url('AB')).toThrow(/trailing/);
    expect(() => fromBase64urlOfLength('AAAA', 32, 'boxKey')).toThrow(/boxKey must be 32 bytes, got 3/);
  });

  it('canonical JSON matches the Python implementation and refuses floats', () => {
    for (const v of vectors.canonicalJson) expect(canonicalJson(v.value)).toBe(v.canonical);
    expect(() => canonicalJson({ a: 1.5 })).toThrow(/safe integers/);
    expect(() => transcript('not a label', {})).toThrow(/label/);
  });
});

describe('signatures', () => {
  it('derives the public key from PKCS#8 and signs exactly what Python signs (Ed25519 is deterministic)', async () => {
    expect(await publicKeyOf(ED25519, fromBase64url(vectors.ed25519.pkcs8))).toEqual(edPublic);
    const fields = vectors.approval.fields as ApprovalFields;
    expect(await signApproval(fields, await edPrivate())).toBe(vectors.approval.signature);
    expect(await checkApproval(fields, vectors.approval.signature, edPublic)).toBe(true);
    expect(await checkApproval({ ...fields, user: 'juergen' }, vectors.approval.signature, edPublic)).toBe(false);
    expect(await checkApproval({ ...fields, decision: 'deny' }, vectors.approval.signature, edPublic)).toBe(false);
    expect(await checkApproval(fields, 'not-base64url!', edPublic)).toBe(false);
  });

  it('accepts a signed policy once and refuses a tampered, foreign, unsigned or older one', async () => {
    const { policy, signature } = vectors.policy;
    const ws = policy.workstationId;
    expect(await checkSignedPolicy({ policy, signature }, edPublic, ws, 7)).toMatchObject({
      ok: true,
      policy: { version: 7 },
    });
    expect(
      await checkSignedPolicy(
        { policy: { ...policy, settings: { ...policy.settings, offlineMode: false } }, signature },
        edPublic,
        ws,
        0,
      ),
    ).toMatchObject({ ok: false, code: 'policy-signature' });
    expect(await checkSignedPolicy({ policy, signature }, edPublic, 'ws_ZZZZZZZZZZZZZZZZZZZZZZZZZZ', 0)).toMatchObject({
      ok: false,
      code: 'policy-wrong-workstation',
    });
    expect(await checkSignedPolicy({ policy, signature }, edPublic, ws, 8)).toMatchObject({
      ok: false,
      code: 'policy-older',
    });
    expect(await checkSignedPolicy({ policy }, edPublic, ws, 0)).toMatchObject({ ok: false, code: 'policy-malformed' });
    expect(
      await checkSignedPolicy(
        { policy: { ...policy, settings: { ...policy.settings, pinCount: 5 } }, signature },
        edPublic,
        ws,
        0,
      ),
    ).toMatchObject({ ok: false, code: 'policy-malformed' });
    const other = await generateKeyPair(ED25519);
    const forged = await signPolicy(policy as PolicyDocument, other.privateKey);
    expect(await checkSignedPolicy(forged, edPublic, ws, 0)).toMatchObject({ ok: false, code: 'policy-signature' });
  });

  it('keeps verifying a policy signed before pinDisplaySeconds existed, with the default; reads one that has it', async () => {
    const older = vectors.policy;
    expect('pinDisplaySeconds' in older.policy.settings).toBe(false);
    expect(await checkSignedPolicy(older, edPublic, older.policy.workstationId, 0)).toMatchObject({
      ok: true,
      policy: { settings: { pinDisplaySeconds: DEFAULT_POLICY.pinDisplaySeconds } },
    });
    const newer = vectors.policyWithDisplaySeconds;
    expect(await checkSignedPolicy(newer, edPublic, newer.policy.workstationId, 7)).toMatchObject({
      ok: true,
      policy: { version: 8, settings: { pinDisplaySeconds: 90 } },
    });
    const tooLong = {
      policy: { ...newer.policy, settings: { ...newer.policy.settings, pinDisplaySeconds: 301 } },
      signature: newer.signature,
    };
    expect(await checkSignedPolicy(tooLong, edPublic, newer.policy.workstationId, 0)).toMatchObject({
      ok: false,
      code: 'policy-malformed',
      message: /pinDisplaySeconds must be an integer from 10 to 300/,
    });
  });

  it('signs requests over method, path, time, nonce and body; any change breaks the signature', async () => {
    const key = await generateKeyPair(ED25519);
    const request = {
      method: 'POST',
      path: '/v1/workstation/auth-requests?x=1',
      body: new TextEncoder().encode('{"user":"alice"}'),
    };
    const headers = await signRequest(request, 'ws_X', key.privateKey, 1_000_000);
    const lookup = async (id: string) => (id === 'ws_X' ? key.publicKey : null);
    expect(await checkRequestSignature(request, headers, lookup, 1_000_500)).toMatchObject({ ok: true, keyId: 'ws_X' });
    expect(
      await checkRequestSignature({ ...request, path: '/v1/workstation/auth-requests' }, headers, lookup, 1_000_500),
    ).toMatchObject({ ok: false });
    expect(
      await checkRequestSignature({ ...request, body: new Uint8Array() }, headers, lookup, 1_000_500),
    ).toMatchObject({ ok: false });
    expect(await checkRequestSignature(request, headers, lookup, 1_000_000 + 6 * 60_000)).toMatchObject({
      ok: false,
      message: /5 minutes/,
    });
    expect(
      await checkRequestSignature(request, { ...headers, 'latchkey-key-id': 'ws_Y' }, lookup, 1_000_500),
    ).toMatchObject({ ok: false, message: /unknown/ });
    expect(await checkRequestSignature(request, {}, lookup, 1_000_500)).toMatchObject({
      ok: false,
      message: /not signed/,
    });
  });
});

describe('pairing', () => {
  it('formats and parses codes forgivingly, and derives the same key and MAC as Python', async () => {
    const { pairingId, secret } = vectors.pairing;
    const code = formatPairingCode(pairingId, secret);
    expect(code).toBe('7K2QD-0123-4567-89AB');
    expect(parsePairingCode(code.toLowerCase().replace(/-/g, ' '))).toEqual({ pairingId, secret });
    expect(parsePairingCode('7K2QD-0123')).toBeNull();
    expect(parsePairingCode('UUUUU-0123-4567-89AB')).toBeNull();
    const key = await derivePairingKey(pairingId, secret);
    expect(toBase64url(key)).toBe(vectors.pairing.pairingKey);
    expect(toBase64url(await deviceMac(key, vectors.pairing.deviceKeys))).toBe(vectors.pairing.deviceMac);
    const fresh = parsePairingCode(formatPairingCode(newPairingId(), newPairingSecret()));
    expect(fresh?.secret).toMatch(/^[0-9A-HJKMNP-TV-Z]{12}$/);
  });
});

describe('pool envelope', () => {
  it('opens the envelope Python sealed, and refuses it tampered, re-addressed or for another key', async () => {
    const { boxPkcs8, boxPublicKey, envelope, contents } = vectors.envelope;
    const boxPrivate = await importPrivateKey(X25519, fromBase64url(boxPkcs8));
    const boxPublic = fromBase64url(boxPublicKey);
    const expectIds = { deviceId: envelope.deviceId, workstationId: contents.workstationId };
    expect(await openPoolEnvelope(envelope, edPublic, boxPrivate, boxPublic, expectIds)).toEqual({
      ok: true,
      contents,
    });
    const flipped = {
      ...envelope,
      ciphertext: `${envelope.ciphertext.slice(0, 10)}${envelope.ciphertext[10] === 'A' ? 'B' : 'A'}${envelope.ciphertext.slice(11)}`,
    };
    expect(await openPoolEnvelope(flipped, edPublic, boxPrivate, boxPublic, expectIds)).toMatchObject({
      ok: false,
      code: 'envelope-signature',
    });
    expect(
      await openPoolEnvelope(envelope, edPublic, boxPrivate, boxPublic, { ...expectIds, deviceId: 'dev_other' }),
    ).toMatchObject({ ok: false, code: 'envelope-mismatch' });
    const stranger = await generateKeyPair(X25519);
    expect(
      await openPoolEnvelope(envelope, edPublic, stranger.privateKey, stranger.publicKey, expectIds),
    ).toMatchObject({ ok: false, code: 'envelope-undecryptable' });
    const otherWorkstation = await generateKeyPair(ED25519);
    expect(
      await openPoolEnvelope(envelope, otherWorkstation.publicKey, boxPrivate, boxPublic, expectIds),
    ).toMatchObject({ ok: false, code: 'envelope-signature' });
    expect(await openPoolEnvelope({ ...envelope, extra: 1 }, edPublic, boxPrivate, boxPublic, expectIds)).toMatchObject(
      { ok: false, code: 'envelope-malformed' },
    );
  });

  it('seals what the phone opens', async () => {
    const workstation = await generateKeyPair(ED25519);
    const phoneBox = await generateKeyPair(X25519);
    const contents: PoolContents = { ...vectors.envelope.contents };
    const sealed = await sealPoolEnvelope(contents, 'dev_D', phoneBox.publicKey, workstation.privateKey);
    expect(
      await openPoolEnvelope(sealed, workstation.publicKey, phoneBox.privateKey, phoneBox.publicKey, {
        deviceId: 'dev_D',
        workstationId: contents.workstationId,
      }),
    ).toEqual({ ok: true, contents });
    expect(JSON.stringify(sealed)).not.toContain(contents.seed);
  });
});
