/**
 * The phone's credential key over BLE and its release (docs/ble-protocol.md §5.1, §12;
 * docs/windows.md §6.3, §6.5) against the independent Python vectors: PAIR-READY with CK.pub
 * under macP and sigP, HELLO with request 0x02 carrying the copy's eph, PROOF carrying k — and the
 * refusals: a pairing without CK, a PROOF of the wrong form, a dropped key.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HelloReplayCache, PhoneHandshake } from '../../../ble/protocol/handshake-phone.js';
import { WorkstationHandshake, type WorkstationStep } from '../../../ble/protocol/handshake-workstation.js';
import { CREDENTIAL_MESSAGE_BYTES, ErrorCode, decodeMessage } from '../../../ble/protocol/message-codec.js';
import type { PairingStep } from '../../../ble/protocol/pairing-handshake.js';
import { identityFromSeed, type PhonePairing, type WorkstationPairing } from '../../../ble/protocol/pairing-records.js';
import { toHex } from '../../../protocol/bytes.js';
import { copyKeyFor, x25519PairFromSeed } from '../../../protocol/credential-wrap.js';
import { hex, scriptedRandom, vectorPairingPhone, vectorPairingWorkstation, vectors } from './vectors.js';

const all = JSON.parse(readFileSync(new URL('../../vectors/ble-protocol.json', import.meta.url), 'utf8')) as {
  pairingWithCredentialKey: Record<string, string>;
  handshakeWithRelease: Record<string, string>;
};
const p = vectors.pairing;
const keyed = all.pairingWithCredentialKey;
const h = vectors.handshake;
const r = all.handshakeWithRelease;

function sent(step: PairingStep | WorkstationStep | ReturnType<PhoneHandshake['receive']>): Uint8Array {
  if (step.kind !== 'send') throw new Error(`expected a message, got ${JSON.stringify(step)}`);
  return step.message;
}

describe('PAIR-READY with the credential key (§12)', () => {
  const workstation = vectorPairingWorkstation;
  const phone = vectorPairingPhone;

  it('reproduces the Python messages; the workstation learns CK.pub, and both keep the same pairing key', () => {
    const ws = workstation();
    const ph = phone(hex(keyed.credentialKey!));
    const ready = sent(ph.receive(ws.hello(), p.unixMs));
    expect(toHex(ready)).toBe(keyed.pairReady);
    expect(ready).toHaveLength(CREDENTIAL_MESSAGE_BYTES.pairReady);
    const confirm = sent(ws.receive(ready));
    expect(toHex(confirm)).toBe(keyed.pairConfirm);
    const store = ph.receive(confirm, p.unixMs);
    if (store.kind !== 'store') throw new Error(JSON.stringify(store));
    expect(toHex(store.peer.pairingKey)).toBe(keyed.pairingKey);
    expect(store.peer).not.toHaveProperty('credentialKey');
    const done = ws.receive(ph.stored(true));
    if (done.kind !== 'done') throw new Error(JSON.stringify(done));
    expect(toHex(done.peer.credentialKey!)).toBe(keyed.credentialKey);
    expect(toHex(done.peer.pairingKey)).toBe(keyed.pairingKey);
  });

  it('a phone without one pairs as before (242 bytes, no credential key at the workstation)', () => {
    const ws = workstation();
    const ready = sent(phone().receive(ws.hello(), p.unixMs));
    expect(toHex(ready)).toBe(p.pairReady);
    sent(ws.receive(ready));
    expect(ws.state).toBe('confirm-sent');
  });

  it('a key cut off or swapped on the way breaks macP: pairing-mismatch', () => {
    // The vector: the keyed phone's PAIR-READY re-sealed without CK would need the code; an
    // attacker can only change bytes, and every changed byte fails the AEAD or the MAC.
    const ws = workstation();
    ws.hello();
    const ready = hex(keyed.pairReady!);
    ready[ready.length - 20]! ^= 1;
    const step = ws.receive(ready);
    expect(step).toMatchObject({ kind: 'failed', error: { code: 'pairing-mismatch' } });
  });
});

describe('the release over BLE: HELLO 0x02 and PROOF with k (§5.1)', () => {
  const workstationIdentity = identityFromSeed(hex(h.workstationSeed));
  const phoneIdentity = identityFromSeed(hex(h.phoneSeed));
  const wsPairing: WorkstationPairing = {
    id: 'phone-1',
    pairingKey: hex(h.pairingKey),
    workstationIdentity,
    phonePublicKey: phoneIdentity.publicKey,
  };
  const phonePairing = (credentialKey?: Uint8Array): PhonePairing => ({
    id: 'ws-1',
    pairingKey: hex(h.pairingKey),
    phoneIdentity,
    workstationPublicKey: workstationIdentity.publicKey,
    ...(credentialKey ? { credentialKey } : {}),
  });
  const workstation = (copyEph?: Uint8Array) =>
    new WorkstationHandshake(wsPairing, hex(h.tag), {
      random: scriptedRandom(hex(h.workstationEphemeralPrivate), hex(h.challenge)),
      ...(copyEph ? { copyEph } : {}),
    });
  const phone = (credentialKey?: Uint8Array) =>
    new PhoneHandshake([phonePairing(credentialKey)], {
      replayCache: new HelloReplayCache(),
      random: scriptedRandom(hex(h.phoneEphemeralPrivate)),
    });

  it('k from CK and eph (credential-wrap.ts) matches Python, and travels inside PROOF to the workstation', async () => {
    const ck = await x25519PairFromSeed(hex(r.credentialKeyPrivate!));
    expect(toHex(ck.publicKey)).toBe(r.credentialKey);
    const k = (await copyKeyFor(ck, hex(r.copyEph!)))!;
    expect(toHex(k)).toBe(r.copyKey);

    const ws = workstation(hex(r.copyEph!));
    const ph = phone(ck.publicKey);
    const hello = ws.hello();
    expect(toHex(hello)).toBe(r.hello);
    expect(hello).toHaveLength(CREDENTIAL_MESSAGE_BYTES.hello);
    const asked = ph.receive(hello, h.unixMs);
    if (asked.kind !== 'approve') throw new Error(JSON.stringify(asked));
    expect(toHex(asked.copyEph!)).toBe(r.copyEph);
    const ready = ph.approval('approved', k);
    expect(toHex(ready)).toBe(r.ready);
    const challenge = sent(ws.receive(ready, h.unixMs));
    expect(toHex(challenge)).toBe(r.challengeMessage);
    const proof = sent(ph.receive(challenge, h.unixMs + 1));
    expect(toHex(proof)).toBe(r.proof);
    expect(proof).toHaveLength(CREDENTIAL_MESSAGE_BYTES.proof);
    expect(ws.receive(proof, h.unixMs + 5)).toEqual({ kind: 'proof-verified' });
    const { decision } = ws.conclude(-50);
    expect(decision.ok && toHex(decision.copyKey!)).toBe(r.copyKey);
  });

  it('a pairing without a credential key answers ERROR 0x07; so does an approval without k', async () => {
    const plain = phone();
    const refused = plain.receive(hex(r.hello!), h.unixMs);
    expect(refused).toMatchObject({ kind: 'failed', error: { code: 'unsupported-request' } });
    expect(refused.kind === 'failed' && refused.message).toEqual(
      Uint8Array.of(0x01, 0x7f, ErrorCode.unsupportedRequest),
    );

    const ck = await x25519PairFromSeed(hex(r.credentialKeyPrivate!));
    const keyedPhone = phone(ck.publicKey);
    keyedPhone.receive(hex(r.hello!), h.unixMs);
    expect(keyedPhone.approval('approved', null)).toEqual(Uint8Array.of(0x01, 0x7f, ErrorCode.unsupportedRequest));
    expect(keyedPhone.state).toBe('failed');
    // A decline needs no k and releases nothing.
    const declining = phone(ck.publicKey);
    declining.receive(hex(r.hello!), h.unixMs);
    expect(decodeMessage(declining.approval('declined')).type).toBe('ready');
  });

  it('the workstation refuses a PROOF of the wrong form for the HELLO it sent', () => {
    const ws = workstation(hex(r.copyEph!));
    ws.hello();
    ws.receive(hex(r.ready!), h.unixMs);
    expect(ws.receive(hex(r.proofWithoutKey!), h.unixMs + 1)).toMatchObject({
      kind: 'failed',
      error: { code: 'message-malformed' },
    });
    // A plain unlock gets no key, even from a phone that sends one.
    const plain = workstation();
    plain.hello();
    plain.receive(hex(h.ready), h.unixMs);
    expect(plain.receive(hex(h.proof), h.unixMs + 1)).toEqual({ kind: 'proof-verified' });
    expect(plain.conclude(-50).decision).not.toHaveProperty('copyKey');
  });

  it('a HELLO whose length does not match its request is malformed', () => {
    const hello = hex(r.hello!);
    const asPlain = hello.slice();
    asPlain[2] = 0x01;
    expect(() => decodeMessage(asPlain)).toThrow(/request 0x1 must be 115 bytes/);
    const short = hex(h.hello).slice();
    short[2] = 0x02;
    expect(() => decodeMessage(short)).toThrow(/request 0x2 must be 147 bytes/);
    // A changed eph breaks sigW.
    const tampered = hello.slice();
    tampered[60]! ^= 1;
    expect(phone(new Uint8Array(32).fill(9)).receive(tampered, h.unixMs)).toMatchObject({
      kind: 'failed',
      error: { code: 'bad-signature' },
    });
  });
});
