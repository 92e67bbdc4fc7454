import { describe, expect, it } from 'vitest';
import { toHex } from '../../../protocol/bytes.js';
import { HelloReplayCache, PhoneHandshake, type PhoneStep } from '../../../ble/protocol/handshake-phone.js';
import { WorkstationHandshake, type WorkstationStep } from '../../../ble/protocol/handshake-workstation.js';
import { x25519 } from '../../../protocol/crypto/node-crypto.js';
import { decodeMessage, ErrorCode, MESSAGE_BYTES } from '../../../ble/protocol/message-codec.js';
import { deriveSessionKeys } from '../../../ble/protocol/session.js';
import { deriveSessionSalt } from '../../../ble/protocol/tag.js';
import { identityFromSeed, type PhonePairing, type WorkstationPairing } from '../../../ble/protocol/pairing-records.js';
import { hex, scriptedRandom, vectors } from './vectors.js';
import { sha256 } from '../../../protocol/crypto/hashes.js';

const v = vectors.handshake;
const NOW = v.unixMs;

function pairings(): { workstation: WorkstationPairing; phone: PhonePairing } {
  const workstationIdentity = identityFromSeed(hex(v.workstationSeed));
  const phoneIdentity = identityFromSeed(hex(v.phoneSeed));
  return {
    workstation: {
      id: 'phone-1',
      pairingKey: hex(v.pairingKey),
      workstationIdentity,
      phonePublicKey: phoneIdentity.publicKey,
    },
    phone: {
      id: 'ws-1',
      pairingKey: hex(v.pairingKey),
      phoneIdentity,
      workstationPublicKey: workstationIdentity.publicKey,
      workstationName: 'ws-1',
    },
  };
}

function vectorWorkstation(options: { proofDeadlineMs?: number; minRssi?: number | null } = {}): WorkstationHandshake {
  return new WorkstationHandshake(pairings().workstation, hex(v.tag), {
    random: scriptedRandom(hex(v.workstationEphemeralPrivate), hex(v.challenge)),
    ...options,
  });
}

function vectorPhone(cache = new HelloReplayCache()): PhoneHandshake {
  return new PhoneHandshake([pairings().phone], {
    replayCache: cache,
    random: scriptedRandom(hex(v.phoneEphemeralPrivate)),
  });
}

function sent(step: WorkstationStep | PhoneStep): Uint8Array {
  if (step.kind !== 'send') throw new Error(`expected a message to send, got ${JSON.stringify(step)}`);
  return step.message;
}

describe('the unlock handshake (docs/ble-protocol.md §5)', () => {
  it('reproduces every message of the Python vector from the same seeds', () => {
    const workstation = vectorWorkstation();
    const phone = vectorPhone();
    const hello = workstation.hello();
    expect(toHex(hello)).toBe(v.hello);
    expect(phone.receive(hello, NOW)).toMatchObject({ kind: 'approve', pairing: { id: 'ws-1' } });
    const ready = phone.approval('approved');
    expect(toHex(ready)).toBe(v.ready);
    const challenge = sent(workstation.receive(ready, NOW));
    expect(toHex(challenge)).toBe(v.challengeMessage);
    workstation.challengeSent(NOW);
    const proof = sent(phone.receive(challenge, NOW + 1));
    expect(toHex(proof)).toBe(v.proof);
    expect(workstation.receive(proof, NOW + 20)).toEqual({ kind: 'proof-verified' });
    const { decision, message } = workstation.conclude(-55);
    expect(decision).toEqual({ ok: true, proofMs: 20, rssi: -55 });
    expect(toHex(message)).toBe(v.verdict);
    expect(phone.receive(message, NOW + 25)).toEqual({ kind: 'done', accepted: true, result: 0 });
    expect([workstation.state, phone.state]).toEqual(['done', 'done']);
  });

  it('derives the vector shared secret, transcript hash and per-direction keys (§5.2)', () => {
    const ephW = hex(v.workstationEphemeralPrivate);
    const ephP = hex(v.phoneEphemeralPublic);
    expect(toHex(x25519(ephW, ephP)!)).toBe(v.sharedSecret);
    expect(toHex(sha256(hex(v.hello), ephP))).toBe(v.th1);
    const keys = deriveSessionKeys(ephW, ephP, deriveSessionSalt(hex(v.pairingKey)), hex(v.hello), ephP);
    expect([toHex(keys.w2p), toHex(keys.p2w)]).toEqual([v.kW2P, v.kP2W]);
  });

  it('has the sizes the doc promises: 317 application bytes per unlock', () => {
    expect(MESSAGE_BYTES).toMatchObject({ hello: 115, ready: 51, challenge: 50, proof: 82, verdict: 19, error: 3 });
    expect(
      MESSAGE_BYTES.hello + MESSAGE_BYTES.ready + MESSAGE_BYTES.challenge + MESSAGE_BYTES.proof + MESSAGE_BYTES.verdict,
    ).toBe(317);
  });

  for (const c of vectors.invalidHandshake) {
    it(`${c.side} refuses: ${c.name} → ${c.code}`, () => {
      const input = hex(c.input);
      if (c.side === 'phone') {
        const phone = vectorPhone();
        if (c.after.includes('hello')) {
          phone.receive(hex(v.hello), NOW);
          phone.approval('approved');
        }
        const step = phone.receive(input, NOW);
        expect(step.kind).toBe('failed');
        if (step.kind !== 'failed') return;
        expect(step.error.code).toBe(c.code);
        expect(phone.state).toBe('failed');
        // The phone tells the workstation why, except when the workstation itself ended the session.
        if (c.code === 'peer-error') expect(step.message).toBeNull();
        else expect(decodeMessage(step.message!).type).toBe('error');
      } else {
        const workstation = vectorWorkstation();
        workstation.hello();
        if (c.after.includes('ready')) workstation.receive(hex(v.ready), NOW);
        const step = workstation.receive(input, NOW);
        expect(step.kind).toBe('failed');
        if (step.kind === 'failed') expect(step.error.code).toBe(c.code);
        expect(workstation.state).toBe('failed');
      }
    });
  }

  it('refuses a proof that arrives later than the relay bound, and tells the phone', () => {
    const workstation = vectorWorkstation({ proofDeadlineMs: 300 });
    workstation.hello();
    workstation.receive(hex(v.ready), NOW);
    workstation.challengeSent(NOW);
    const step = workstation.receive(hex(v.proof), NOW + 301);
    expect(step).toMatchObject({ kind: 'failed', error: { code: 'reply-too-late' } });
    const phone = vectorPhone();
    phone.receive(hex(v.hello), NOW);
    phone.approval('approved');
    phone.receive(hex(v.challengeMessage), NOW);
    expect(phone.receive((step as { message: Uint8Array }).message, NOW)).toEqual({
      kind: 'done',
      accepted: false,
      result: 2,
    });
  });

  it('refuses a weak signal or an unknown RSSI, and accepts without the check when it is off', () => {
    const run = (rssi: number | null, minRssi?: number | null) => {
      const workstation = vectorWorkstation(minRssi === undefined ? {} : { minRssi });
      workstation.hello();
      workstation.receive(hex(v.ready), NOW);
      workstation.receive(hex(v.proof), NOW);
      return workstation.conclude(rssi);
    };
    expect(run(-81).decision).toMatchObject({ ok: false, code: 'signal-too-weak' });
    expect(toHex(run(-81).message)).toBe(v.verdictTooWeak);
    expect(run(null).decision).toMatchObject({ ok: false, code: 'signal-too-weak' });
    expect(run(-80).decision.ok).toBe(true);
    expect(run(null, null).decision.ok).toBe(true);
  });

  it('a timeout while waiting for approval fails as approval-timeout and tells the phone to drop its prompt', () => {
    const workstation = vectorWorkstation();
    workstation.hello();
    const step = workstation.timeout();
    expect(step).toMatchObject({ kind: 'failed', error: { code: 'approval-timeout' } });
    expect(decodeMessage((step as { message: Uint8Array }).message)).toMatchObject({
      type: 'error',
      code: ErrorCode.timeout,
    });
  });

  it('the phone answers a replayed HELLO once only, even on a new connection', () => {
    const cache = new HelloReplayCache();
    expect(vectorPhone(cache).receive(hex(v.hello), NOW).kind).toBe('approve');
    expect(vectorPhone(cache).receive(hex(v.hello), NOW)).toMatchObject({
      kind: 'failed',
      error: { code: 'replayed-hello' },
    });
  });

  it('the phone accepts the tag of its previous slot but not of the next one', () => {
    expect(vectorPhone().receive(hex(v.hello), NOW + 600_000).kind).toBe('approve');
    expect(vectorPhone().receive(hex(v.hello), NOW - 600_000)).toMatchObject({
      kind: 'failed',
      error: { code: 'unknown-tag' },
    });
  });

  it('a declined approval ends both sides with declined', () => {
    const workstation = vectorWorkstation();
    const phone = new PhoneHandshake([pairings().phone], { replayCache: new HelloReplayCache() });
    phone.receive(workstation.hello(), NOW);
    const ready = phone.approval('declined');
    expect(phone.state).toBe('done');
    expect(workstation.receive(ready, NOW)).toMatchObject({
      kind: 'failed',
      error: { code: 'declined' },
      message: null,
    });
  });

  it('runs with fresh randomness end to end, and no two sessions share keys', () => {
    const { workstation: wp, phone: pp } = pairings();
    const cache = new HelloReplayCache();
    const proofs = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const workstation = new WorkstationHandshake(wp, hex(v.tag));
      const phone = new PhoneHandshake([pp], { replayCache: cache });
      phone.receive(workstation.hello(), NOW);
      const challenge = sent(workstation.receive(phone.approval('approved'), NOW));
      const proof = sent(phone.receive(challenge, NOW));
      proofs.add(toHex(proof));
      expect(workstation.receive(proof, NOW).kind).toBe('proof-verified');
      expect(workstation.conclude(-40).decision.ok).toBe(true);
    }
    expect(proofs.size).toBe(3);
  });

  it('refuses out-of-order API use with a typed error', () => {
    const workstation = vectorWorkstation();
    expect(() => workstation.conclude(-40)).toThrow(/state proof-verified/);
    expect(() => vectorPhone().approval('approved')).toThrow(/no approval is pending/);
    workstation.hello();
    expect(() => workstation.hello()).toThrow(/state start/);
  });
});
