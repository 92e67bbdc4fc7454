import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { utf8 } from '../../../protocol/bytes.js';
import { HelloReplayCache, PhoneHandshake } from '../../../ble/protocol/handshake-phone.js';
import { WorkstationHandshake } from '../../../ble/protocol/handshake-workstation.js';
import { decodeMessage, ErrorCode, MESSAGE_BYTES } from '../../../ble/protocol/message-codec.js';
import { deriveCodeKey, derivePairTagKey, newBlePairingCode } from '../../../ble/protocol/pairing-code.js';
import { parseBlePairingCode } from '../../../ble/protocol/pairing-code.js';
import { PhonePairingHandshake, WorkstationPairingHandshake } from '../../../ble/protocol/pairing-handshake.js';
import type { PairingStep } from '../../../ble/protocol/pairing-handshake.js';
import { decodeNameField, encodeNameField } from '../../../ble/protocol/pairing-schedule.js';
import { identityFromSeed } from '../../../ble/protocol/pairing-records.js';
import { deriveTagKey, rotatingTag, slotAt } from '../../../ble/protocol/tag.js';
import { equalBytes } from '../../../protocol/crypto/hashes.js';

const NOW = Date.UTC(2026, 10, 28, 12);
const identity = () => identityFromSeed(new Uint8Array(randomBytes(32)));

function sent(step: PairingStep): Uint8Array {
  if (step.kind !== 'send') throw new Error(`expected a message to send, got ${JSON.stringify(step)}`);
  return step.message;
}

async function sides(phoneSecret?: string) {
  const code = newBlePairingCode();
  const workstationKey = await deriveCodeKey(code.pairingId, code.secret);
  const phoneKey = await deriveCodeKey(code.pairingId, phoneSecret ?? code.secret);
  const ws = identity();
  const phone = identity();
  const tag = rotatingTag(derivePairTagKey(code.pairingId), slotAt(NOW));
  return {
    code,
    ws,
    phone,
    workstation: new WorkstationPairingHandshake(
      { pairingId: code.pairingId, codeKey: workstationKey, identity: ws, name: 'alice on ws-1' },
      tag,
    ),
    phoneSide: new PhonePairingHandshake({
      pairingId: code.pairingId,
      codeKey: phoneKey,
      identity: phone,
      name: 'Alice phone',
    }),
  };
}

async function pairFully() {
  const s = await sides();
  const ready = sent(s.phoneSide.receive(s.workstation.hello(), NOW));
  const confirm = sent(s.workstation.receive(ready));
  const store = s.phoneSide.receive(confirm, NOW);
  if (store.kind !== 'store') throw new Error(JSON.stringify(store));
  const done = s.workstation.receive(s.phoneSide.stored(true));
  if (done.kind !== 'done') throw new Error(JSON.stringify(done));
  return { ...s, phonePeer: store.peer, workstationPeer: done.peer, messages: { ready, confirm } };
}

describe('pairing over BLE (docs/ble-protocol.md §12)', () => {
  it("a right code leaves both sides with the same pairing key and each other's identity key and name", async () => {
    const { ws, phone, phonePeer, workstationPeer, workstation, phoneSide } = await pairFully();
    expect(equalBytes(phonePeer.pairingKey, workstationPeer.pairingKey)).toBe(true);
    expect(equalBytes(phonePeer.peerPublicKey, ws.publicKey)).toBe(true);
    expect(equalBytes(workstationPeer.peerPublicKey, phone.publicKey)).toBe(true);
    expect([phonePeer.peerName, workstationPeer.peerName]).toEqual(['alice on ws-1', 'Alice phone']);
    expect([workstation.state, phoneSide.state]).toEqual(['done', 'done']);
  });

  it('messages have the sizes of §12.1, and the code never travels', async () => {
    const { code, messages } = await pairFully();
    expect([
      MESSAGE_BYTES.pairHello,
      MESSAGE_BYTES.pairReady,
      MESSAGE_BYTES.pairConfirm,
      MESSAGE_BYTES.pairDone,
    ]).toEqual([50, 242, 210, 19]);
    expect(messages.ready).toHaveLength(242);
    expect(messages.confirm).toHaveLength(210);
    const secret = utf8(code.secret);
    for (const message of Object.values(messages))
      expect(Buffer.from(message).includes(Buffer.from(secret))).toBe(false);
  });

  it('the pairing key works for an unlock afterwards (§5)', async () => {
    const { ws, phone, phonePeer, workstationPeer } = await pairFully();
    const tag = rotatingTag(deriveTagKey(workstationPeer.pairingKey), slotAt(NOW));
    const central = new WorkstationHandshake(
      {
        id: 'p',
        pairingKey: workstationPeer.pairingKey,
        workstationIdentity: ws,
        phonePublicKey: workstationPeer.peerPublicKey,
      },
      tag,
      { minRssi: null },
    );
    const peripheral = new PhoneHandshake(
      [
        {
          id: 'w',
          pairingKey: phonePeer.pairingKey,
          phoneIdentity: phone,
          workstationPublicKey: phonePeer.peerPublicKey,
        },
      ],
      { replayCache: new HelloReplayCache() },
    );
    expect(peripheral.receive(central.hello(), NOW).kind).toBe('approve');
    const challenge = central.receive(peripheral.approval('approved'), NOW);
    if (challenge.kind !== 'send') throw new Error('no challenge');
    const proof = peripheral.receive(challenge.message, NOW);
    if (proof.kind !== 'send') throw new Error('no proof');
    expect(central.receive(proof.message, NOW)).toEqual({ kind: 'proof-verified' });
    expect(central.conclude(null).decision.ok).toBe(true);
  });

  it('a wrong secret with the right pairing id is refused by the workstation, and the phone is told so', async () => {
    const s = await sides('0000000000AB');
    const ready = sent(s.phoneSide.receive(s.workstation.hello(), NOW));
    const refused = s.workstation.receive(ready);
    expect(refused).toMatchObject({ kind: 'failed', error: { code: 'pairing-mismatch' } });
    const notice = (refused as { message: Uint8Array }).message;
    expect(decodeMessage(notice)).toMatchObject({ type: 'error', code: ErrorCode.pairingRefused });
    expect(s.phoneSide.receive(notice, NOW)).toMatchObject({
      kind: 'failed',
      error: { code: 'peer-error', peerCode: ErrorCode.pairingRefused },
    });
  });

  it('every byte of PAIR-READY and PAIR-CONFIRM is covered: a flipped bit anywhere is refused', async () => {
    for (let i = 2; i < MESSAGE_BYTES.pairReady; i += 17) {
      const s = await sidesFast();
      const ready = sent(s.phoneSide.receive(s.workstation.hello(), NOW));
      ready[i] = ready[i]! ^ 0x01;
      expect(s.workstation.receive(ready).kind, `byte ${i}`).toBe('failed');
    }
    for (let i = 2; i < MESSAGE_BYTES.pairConfirm; i += 13) {
      const s = await sidesFast();
      const confirm = sent(s.workstation.receive(sent(s.phoneSide.receive(s.workstation.hello(), NOW))));
      confirm[i] = confirm[i]! ^ 0x80;
      expect(s.phoneSide.receive(confirm, NOW), `byte ${i}`).toMatchObject({
        kind: 'failed',
        error: { code: 'pairing-mismatch' },
      });
    }
  });

  it('the phone answers only a PAIR-HELLO naming its own pairing tag (current or previous slot)', async () => {
    const s = await sidesFast();
    const hello = s.workstation.hello();
    expect(s.phoneSide.receive(hello, NOW + 20 * 60_000)).toMatchObject({
      kind: 'failed',
      error: { code: 'unknown-tag' },
    });
    const t = await sidesFast();
    expect(t.phoneSide.receive(t.workstation.hello(), NOW + 10 * 60_000).kind).toBe('send');
  });

  it('a pairing recorded on the air gives a different key each time, even with the same code and identities', async () => {
    const a = await pairFully();
    const again = await pairFully();
    expect(equalBytes(a.workstationPeer.pairingKey, again.workstationPeer.pairingKey)).toBe(false);
  });

  it('a phone that cannot store the pairing says so, and the workstation keeps nothing', async () => {
    const s = await sidesFast();
    const confirm = sent(s.workstation.receive(sent(s.phoneSide.receive(s.workstation.hello(), NOW))));
    expect(s.phoneSide.receive(confirm, NOW).kind).toBe('store');
    expect(s.workstation.receive(s.phoneSide.stored(false))).toMatchObject({
      kind: 'failed',
      error: { code: 'pairing-not-stored' },
    });
  });

  it('messages out of order, or after the end, are refused', async () => {
    const s = await sidesFast();
    const hello = s.workstation.hello();
    expect(s.workstation.receive(hello)).toMatchObject({ kind: 'failed', error: { code: 'unexpected-message' } });
    const t = await sidesFast();
    const ready = sent(t.phoneSide.receive(t.workstation.hello(), NOW));
    expect(t.phoneSide.receive(ready, NOW)).toMatchObject({ kind: 'failed', error: { code: 'unexpected-message' } });
  });

  it('parses codes as typed and keeps names as clean, bounded text', () => {
    const code = newBlePairingCode();
    expect(code.code).toMatch(
      /^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/,
    );
    expect(parseBlePairingCode(code.code.toLowerCase().replaceAll('-', ' '))).toEqual({
      pairingId: code.pairingId,
      secret: code.secret,
    });
    expect(parseBlePairingCode('ABCDE-1234')).toBeNull();
    expect(decodeNameField(encodeNameField('alice on ws-1'))).toBe('alice on ws-1');
    const long = 'ü'.repeat(40); // 80 bytes: cut at a character boundary
    expect(decodeNameField(encodeNameField(long))).toBe('ü'.repeat(32));
    expect(decodeNameField(encodeNameField('a\nb'))).toBe('a b');
    const dirty = new Uint8Array(64);
    dirty.set([0x61, 0x07]);
    expect(decodeNameField(dirty)).toBeNull();
  });
});

/** sides() with a code key derived once (PBKDF2 at 200,000 iterations is the slow part). */
let cached: { pairingId: string; codeKey: Uint8Array } | null = null;
async function sidesFast() {
  if (!cached) {
    const code = newBlePairingCode();
    cached = { pairingId: code.pairingId, codeKey: await deriveCodeKey(code.pairingId, code.secret) };
  }
  const tag = rotatingTag(derivePairTagKey(cached.pairingId), slotAt(NOW));
  return {
    workstation: new WorkstationPairingHandshake(
      { pairingId: cached.pairingId, codeKey: cached.codeKey.slice(), identity: identity(), name: 'ws' },
      tag,
    ),
    phoneSide: new PhonePairingHandshake({
      pairingId: cached.pairingId,
      codeKey: cached.codeKey.slice(),
      identity: identity(),
      name: 'phone',
    }),
  };
}
