// Pairing over BLE (docs/ble-protocol.md §12) with the real noble (workstation) and the real
// bleno (phone) on the in-process virtual controller: the keys it leaves unlock, a wrong code is
// refused on both sides, and a code nobody shows is never answered.
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { WorkstationCentral } from '../../ble/central.js';
import { PhonePeripheral } from '../../ble/peripheral.js';
import { deriveCodeKey, newBlePairingCode } from '../../ble/protocol/pairing-code.js';
import { WorkstationPairingHandshake, type PairedPeer } from '../../ble/protocol/pairing-handshake.js';
import { identityFromSeed } from '../../ble/protocol/pairing-records.js';
import { ErrorCode } from '../../ble/protocol/message-codec.js';
import { VirtualController } from '../../ble/virtual-controller/index.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function radio() {
  const controller = new VirtualController({ advertisingIntervalMs: 20 });
  controller.addPort('phone');
  controller.addPort('workstation');
  cleanups.push(() => controller.close());
  const central = await WorkstationCentral.open({
    transport: { kind: 'virtual', controller, port: 'workstation' },
    pairings: [],
  });
  cleanups.push(() => central.close());
  return { controller, central };
}

async function phoneWaiting(controller: VirtualController, pairingId: string, secret: string, stored: PairedPeer[]) {
  const identity = identityFromSeed(new Uint8Array(randomBytes(32)));
  const phone = await PhonePeripheral.startPairing({
    transport: { kind: 'virtual', controller, port: 'phone' },
    setup: { pairingId, codeKey: await deriveCodeKey(pairingId, secret), identity, name: 'Alice phone' },
    store: async (peer) => {
      stored.push(peer);
      return true;
    },
  });
  cleanups.push(() => phone.stop());
  return { phone, identity };
}

describe('pairing over BLE, real noble and bleno', () => {
  it('pairs with the right code, and the keys it leaves unlock over the same radio', async () => {
    const { controller, central } = await radio();
    const code = newBlePairingCode();
    const stored: PairedPeer[] = [];
    const { phone, identity: phoneIdentity } = await phoneWaiting(controller, code.pairingId, code.secret, stored);
    const ws = identityFromSeed(new Uint8Array(randomBytes(32)));
    const codeKey = await deriveCodeKey(code.pairingId, code.secret);
    const outcome = phone.nextPairing(10_000);
    const result = await central.pair({
      pairingId: code.pairingId,
      budgetMs: 5_000,
      handshake: (tag) =>
        new WorkstationPairingHandshake(
          { pairingId: code.pairingId, codeKey, identity: ws, name: 'alice on ws-1' },
          tag,
        ),
    });
    if (!result.ok) throw new Error(`pairing failed: ${result.code} ${result.reason}`);
    expect(await outcome).toMatchObject({ ok: true, peer: { peerName: 'alice on ws-1' } });
    expect(result.peer.peerName).toBe('Alice phone');
    expect(Buffer.from(stored[0]!.pairingKey).equals(Buffer.from(result.peer.pairingKey))).toBe(true);
    await phone.stop();

    // The phone now serves unlocks with what it stored; the workstation unlocks with what it kept.
    controller.rotateAddress('phone');
    const serving = await PhonePeripheral.start({
      transport: { kind: 'virtual', controller, port: 'phone' },
      pairings: [
        {
          id: 'ws',
          pairingKey: stored[0]!.pairingKey,
          phoneIdentity,
          workstationPublicKey: stored[0]!.peerPublicKey,
          workstationName: stored[0]!.peerName,
        },
      ],
      approve: async () => true,
    });
    cleanups.push(() => serving.stop());
    const unlock = await central.unlock({
      budgetMs: 5_000,
      pairings: [
        {
          id: `ble-${code.pairingId}`,
          pairingKey: result.peer.pairingKey,
          workstationIdentity: ws,
          phonePublicKey: result.peer.peerPublicKey,
        },
      ],
    });
    expect(unlock).toMatchObject({ ok: true, pairingId: `ble-${code.pairingId}` });
  });

  it('refuses a wrong code on the workstation, and the phone hears that its code was refused', async () => {
    const { controller, central } = await radio();
    const code = newBlePairingCode();
    const stored: PairedPeer[] = [];
    const wrongSecret = code.secret.startsWith('0') ? `1${code.secret.slice(1)}` : `0${code.secret.slice(1)}`;
    const { phone } = await phoneWaiting(controller, code.pairingId, wrongSecret, stored);
    const codeKey = await deriveCodeKey(code.pairingId, code.secret);
    const outcome = phone.nextPairing(10_000);
    const result = await central.pair({
      pairingId: code.pairingId,
      budgetMs: 5_000,
      handshake: (tag) => strangerHandshake(code.pairingId, codeKey, tag),
    });
    expect(result).toMatchObject({ ok: false, code: 'pairing-mismatch' });
    expect(await outcome).toMatchObject({ ok: false, code: 'peer-error', peerCode: ErrorCode.pairingRefused });
    expect(stored).toHaveLength(0);
  });

  it('never connects to a phone showing another pairing id', async () => {
    const { controller, central } = await radio();
    const shown = newBlePairingCode();
    const typed = newBlePairingCode();
    const stored: PairedPeer[] = [];
    await phoneWaiting(controller, typed.pairingId, typed.secret, stored);
    const codeKey = await deriveCodeKey(shown.pairingId, shown.secret);
    const result = await central.pair({
      pairingId: shown.pairingId,
      budgetMs: 600,
      handshake: (tag) => strangerHandshake(shown.pairingId, codeKey, tag),
    });
    expect(result).toMatchObject({ ok: false, code: 'no-phone-found' });
    expect(controller.connections).toHaveLength(0);
  });
});

/** A workstation's side of a pairing with a fresh identity of its own, named 'ws'. */
function strangerHandshake(pairingId: string, codeKey: Uint8Array, tag: Uint8Array) {
  return new WorkstationPairingHandshake(
    { pairingId, codeKey, identity: identityFromSeed(new Uint8Array(randomBytes(32))), name: 'ws' },
    tag,
  );
}
