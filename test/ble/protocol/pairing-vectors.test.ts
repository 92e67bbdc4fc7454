// Pairing over BLE against test/vectors/ble-protocol.json ("pairing", "invalidPairing"), written
// by the independent Python implementation (docs/ble-protocol.md §12).
import { describe, expect, it } from 'vitest';
import { toHex } from '../../../protocol/bytes.js';
import { deriveCodeKey, derivePairKeys } from '../../../ble/protocol/pairing-code.js';
import type { PairingStep } from '../../../ble/protocol/pairing-handshake.js';
import { hex, vectorPairingPhone, vectorPairingWorkstation, vectors } from './vectors.js';

const v = vectors.pairing;
const NOW = v.unixMs;

const workstation = vectorPairingWorkstation;
const phone = () => vectorPairingPhone();

function sent(step: PairingStep): string {
  if (step.kind !== 'send') throw new Error(`expected a message, got ${JSON.stringify(step)}`);
  return toHex(step.message);
}

describe('pairing vectors (docs/ble-protocol.md §12)', () => {
  it('derives the code key with PBKDF2 (200,000) and the session salt and MAC key from it', async () => {
    expect(toHex(await deriveCodeKey(v.pairingId, v.secret))).toBe(v.codeKey);
    const keys = derivePairKeys(hex(v.codeKey));
    expect([toHex(keys.salt), toHex(keys.macKey)]).toEqual([v.pairSalt, v.macKey]);
    expect(toHex(phone().tagAt(NOW))).toBe(v.pairTag);
  });

  it('reproduces every message and the pairing key from the same seeds', () => {
    const ws = workstation();
    const ph = phone();
    const hello = ws.hello();
    expect(toHex(hello)).toBe(v.pairHello);
    expect(sent(ph.receive(hello, NOW))).toBe(v.pairReady);
    expect(sent(ws.receive(hex(v.pairReady)))).toBe(v.pairConfirm);
    const store = ph.receive(hex(v.pairConfirm), NOW);
    expect(store).toMatchObject({ kind: 'store', peer: { peerName: v.workstationName } });
    if (store.kind !== 'store') return;
    expect(toHex(store.peer.pairingKey)).toBe(v.pairingKey);
    expect(toHex(store.peer.peerPublicKey)).toBe(v.workstationPublicKey);
    expect(toHex(ph.stored(true))).toBe(v.pairDone);
    const done = ws.receive(hex(v.pairDone));
    expect(done).toMatchObject({ kind: 'done', peer: { peerName: v.phoneName } });
    if (done.kind === 'done')
      expect([toHex(done.peer.pairingKey), toHex(done.peer.peerPublicKey)]).toEqual([v.pairingKey, v.phonePublicKey]);
  });

  it.each(vectors.invalidPairing.map((c) => [c.name, c] as const))('refuses: %s', (_name, c) => {
    let step: PairingStep;
    if (c.side === 'workstation') {
      const ws = workstation();
      if (c.after.includes('hello')) ws.hello();
      if (c.after.includes('ready')) ws.receive(hex(v.pairReady));
      step = ws.receive(hex(c.input));
    } else {
      const ph = phone();
      if (c.after.includes('hello')) ph.receive(hex(v.pairHello), NOW);
      step = ph.receive(hex(c.input), NOW);
    }
    expect(step).toMatchObject({ kind: 'failed', error: { code: c.code } });
  });
});
