// Unlocks that should succeed, with the real noble (workstation) and the real bleno (phone) on
// the in-process virtual controller: fragmentation, address and tag rotation, retries.
import { afterEach, describe, expect, it } from 'vitest';
import { AttOpcode, countRoundTrips, unlockExchangeStart } from '../../ble/virtual-controller/index.js';
import type { ConnectionStats } from '../../ble/virtual-controller/index.js';
import { newPairing, startRig, type Rig } from './rig.js';
import { rawSession, waitUntil } from './raw-central.js';

let rig: Rig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

/** ATT round trips of GATT setup, and of the unlock exchange (first fragment written to the end). */
function roundTrips(connection: ConnectionStats): { setup: number; unlock: number } {
  const start = unlockExchangeStart(connection.att);
  return {
    setup: countRoundTrips(connection.att.slice(0, start)),
    unlock: countRoundTrips(connection.att.slice(start)),
  };
}
const unlockRoundTrips = (connection: ConnectionStats) => roundTrips(connection).unlock;

describe('unlock over the virtual controller (real noble, real bleno)', () => {
  it('a paired phone that approves unlocks the workstation in 2 ATT round trips after GATT setup', async () => {
    rig = await startRig();
    const result = await rig.workstation.unlock({ budgetMs: 5_000 });
    expect(result).toMatchObject({ ok: true, pairingId: 'phone-1', attempts: 1, rssi: -50 });
    await waitUntil(() => rig!.phone.outcomes.length === 1, 2_000, 'the phone outcome');
    expect(rig.phone.outcomes[0]).toMatchObject({ ok: true, accepted: true, verdict: 0 });
    const [connection] = rig.controller.connections;
    expect(unlockRoundTrips(connection!)).toBe(2);
    // HELLO, CHALLENGE, VERDICT one write each at MTU 256; READY and PROOF one notification each.
    expect(connection!.att.filter((r) => r.opcode === AttOpcode.writeCommand)).toHaveLength(3);
    expect(connection!.att.filter((r) => r.opcode === AttOpcode.notification)).toHaveLength(2);
  });

  it('skips GATT discovery on the next unlock with the handles it learnt: 4 ATT round trips per connection in all', async () => {
    rig = await startRig();
    const first = await rig.workstation.unlock({ budgetMs: 5_000 });
    expect(first).toMatchObject({ ok: true, gattCached: false });
    const second = await rig.workstation.unlock({ budgetMs: 5_000 });
    expect(second).toMatchObject({ ok: true, gattCached: true });
    const [discovered, cached] = rig.controller.connections;
    expect(roundTrips(discovered!)).toEqual({ setup: 8, unlock: 2 });
    // MTU exchange, one CCCD write; HELLO's first fragment goes as a Write Request to check the cache.
    expect(roundTrips(cached!)).toEqual({ setup: 2, unlock: 2 });
    expect(countRoundTrips(cached!.att)).toBe(4);
  });

  it('falls back to discovery when cached handles no longer fit the phone', async () => {
    // A CCCD handle that is the read-only device name, and a control point that does not exist.
    const bogus = { 'phone-1': { controlPoint: 0x0099, response: 0x0002, cccd: 0x0003 } };
    rig = await startRig({ workstation: { gattHandles: bogus } });
    expect(await rig.workstation.unlock({ budgetMs: 5_000 })).toMatchObject({
      ok: true,
      gattCached: false,
      attempts: 1,
    });
    const stale = { 'phone-1': { controlPoint: 0x0099, response: 0x000e, cccd: 0x000f } };
    await rig.close();
    rig = await startRig({ workstation: { gattHandles: stale } });
    expect(await rig.workstation.unlock({ budgetMs: 5_000 })).toMatchObject({
      ok: true,
      gattCached: false,
      attempts: 2,
    });
  });

  it("takes the caller's kept handles (from pairing) until they prove stale; what it learns since wins", async () => {
    rig = await startRig();
    const first = await rig.workstation.unlock({ budgetMs: 5_000 });
    const learnt = first.ok ? first.gattHandles! : null;
    await rig.close();
    // A fresh central (a restarted agent) given the handles kept from before: no discovery.
    rig = await startRig();
    expect(await rig.workstation.unlock({ budgetMs: 5_000, gattHandles: { 'phone-1': learnt! } })).toMatchObject({
      ok: true,
      gattCached: true,
      gattHandles: learnt,
    });
    expect(roundTrips(rig.controller.connections[0]!)).toEqual({ setup: 2, unlock: 2 });
    await rig.close();
    // Kept handles that no longer fit: rediscovered once, and the stale ones are not tried again.
    rig = await startRig();
    const stale = { 'phone-1': { controlPoint: 0x0099, response: 0x000e, cccd: 0x000f } };
    expect(await rig.workstation.unlock({ budgetMs: 5_000, gattHandles: stale })).toMatchObject({
      ok: true,
      gattCached: false,
      gattHandles: learnt,
    });
    expect(await rig.workstation.unlock({ budgetMs: 5_000, gattHandles: stale })).toMatchObject({
      ok: true,
      gattCached: true,
      attempts: 1,
    });
  });

  it('fragments every message at the smallest ATT_MTU (23) and still unlocks', async () => {
    rig = await startRig({ workstation: { mtu: 23 } });
    const result = await rig.workstation.unlock({ budgetMs: 5_000 });
    expect(result).toMatchObject({ ok: true, mtu: 23 });
    const [connection] = rig.controller.connections;
    // HELLO 7 + CHALLENGE 3 + VERDICT 2 fragments; READY 3 + PROOF 5 (docs/ble-protocol.md §9).
    expect(connection!.att.filter((r) => r.opcode === AttOpcode.writeCommand)).toHaveLength(12);
    expect(connection!.att.filter((r) => r.opcode === AttOpcode.notification)).toHaveLength(8);
    expect(Math.max(...connection!.att.map((r) => r.length))).toBeLessThanOrEqual(23);
    expect(unlockRoundTrips(connection!)).toBe(2);
    // With cached handles the last HELLO fragment goes as a Write Request: still 2 round trips.
    expect(await rig.workstation.unlock({ budgetMs: 5_000 })).toMatchObject({ ok: true, gattCached: true });
    expect(roundTrips(rig.controller.connections[1]!)).toEqual({ setup: 2, unlock: 2 });
  });

  it("unlocks again after the phone's address rotates, and the advertisement carries nothing stable", async () => {
    rig = await startRig();
    const first = await rig.workstation.unlock({ budgetMs: 5_000 });
    expect(first.ok).toBe(true);
    const rotated = rig.controller.rotateAddress('phone');
    const second = await rig.workstation.unlock({ budgetMs: 5_000 });
    expect(second).toMatchObject({ ok: true, address: rotated });
    expect(first.ok && first.address).not.toBe(rotated);
    // The host itself can move its address too (Linux Foundation vendor command, as on btvirt).
    await rig.phone.setAddress('c4:11:22:33:44:55');
    const third = await rig.workstation.unlock({ budgetMs: 5_000 });
    expect(third.ok).toBe(true);
  });

  it('shows bystanders nothing stable: only the shared marker and a per-slot tag, and the GATT name "Latchkey"', async () => {
    rig = await startRig();
    const ad = Buffer.from(rig.controller.port('phone').advertising.data).toString('hex');
    expect(ad).toMatch(/^0201061[6]ffffff4c4b01[0-9a-f]{32}$/);
    const rogue = await rawSession(rig.controller, 'bystander');
    try {
      const { characteristics } = await rogue.peripheral.discoverSomeServicesAndCharacteristicsAsync(
        ['1800'],
        ['2a00'],
      );
      expect((await characteristics[0]!.readAsync()).toString()).toBe('Latchkey');
    } finally {
      await rogue.close();
    }
  });

  it('follows the tag from one 10-minute slot to the next on both clocks, and tolerates one slot of skew', async () => {
    let phoneClock = 1_800_000_000_000;
    let workstationClock = phoneClock;
    rig = await startRig({ phone: { clock: () => phoneClock }, workstation: { clock: () => workstationClock } });
    const advertised = () => Buffer.from(rig!.controller.port('phone').advertising.data).toString('hex');
    const before = advertised();
    expect((await rig.workstation.unlock({ budgetMs: 5_000 })).ok).toBe(true);
    phoneClock += 600_000;
    await rig.phone.refreshAdvertising();
    expect(advertised()).not.toBe(before);
    // The workstation's clock lags one slot behind: still recognised (±1 slot).
    expect((await rig.workstation.unlock({ budgetMs: 5_000 })).ok).toBe(true);
    // Two slots of skew: not recognised, so not even a connection is attempted.
    workstationClock -= 600_000;
    expect(await rig.workstation.unlock({ budgetMs: 600 })).toMatchObject({ ok: false, code: 'no-phone-found' });
  });

  it('recovers on retry when the link drops in the middle of the exchange', async () => {
    rig = await startRig();
    // Cut the link when the first fragment of CHALLENGE (message id 1) crosses the air.
    const cut = rig.controller.faults.onAtt(
      (pdu) =>
        pdu.from === 'workstation' && pdu.opcode === AttOpcode.writeCommand && pdu.att[3] === 1 && pdu.att[4] === 0,
      { kind: 'disconnect' },
    );
    const result = await rig.workstation.unlock({ budgetMs: 5_000 });
    expect(cut.fired).toBe(1);
    expect(result).toMatchObject({ ok: true, attempts: 2 });
    await waitUntil(() => rig!.phone.outcomes.length === 2, 2_000, 'two phone outcomes');
    expect(rig.phone.outcomes.map((o) => (o.ok ? 'accepted' : o.code))).toEqual(['disconnected', 'accepted']);
    expect(rig.controller.connections).toHaveLength(2);
  });

  it('reports the drop as retryable when no attempt is left', async () => {
    rig = await startRig();
    rig.controller.faults.onAtt((pdu) => pdu.from === 'workstation' && pdu.opcode === AttOpcode.writeCommand, {
      kind: 'disconnect',
    });
    expect(await rig.workstation.unlock({ budgetMs: 5_000, attempts: 1 })).toMatchObject({
      ok: false,
      code: 'disconnected',
      retryable: true,
      attempts: 1,
    });
  });

  it('retries a connection that fails to be established', async () => {
    rig = await startRig();
    rig.controller.faults.failConnections(1);
    expect(await rig.workstation.unlock({ budgetMs: 5_000 })).toMatchObject({ ok: true, attempts: 2 });
  });

  it('unlocks under host flow control with one ACL buffer and a 30 ms connection interval', async () => {
    rig = await startRig({ controller: { aclBufferCount: 1, connectionIntervalMs: 30 }, workstation: { mtu: 23 } });
    const result = await rig.workstation.unlock({ budgetMs: 5_000 });
    expect(result.ok).toBe(true);
    expect(rig.controller.ports.map((p) => p.flowViolations)).toEqual([0, 0]);
    if (result.ok) expect(result.timings.totalMs).toBeLessThan(5_000);
  });

  it('a phone paired with two workstations cycles their tags and each one unlocks', async () => {
    const a = newPairing('phone-a');
    const b = newPairing('phone-b');
    rig = await startRig({ pairing: a, phonePairings: [a.phone, b.phone], phone: { tagCycleMs: 50 } });
    expect((await rig.workstation.unlock({ budgetMs: 5_000 })).ok).toBe(true);
    const { WorkstationCentral } = await import('../../ble/central.js');
    rig.controller.addPort('workstation-b');
    const other = await WorkstationCentral.open({
      transport: { kind: 'virtual', controller: rig.controller, port: 'workstation-b' },
      pairings: [b.workstation],
    });
    try {
      expect(await other.unlock({ budgetMs: 5_000 })).toMatchObject({ ok: true, pairingId: 'phone-b' });
    } finally {
      other.close();
    }
  });

  it('the phone user declining ends in declined on both sides', async () => {
    rig = await startRig({ phone: { approve: async () => false } });
    expect(await rig.workstation.unlock({ budgetMs: 5_000 })).toMatchObject({
      ok: false,
      code: 'declined',
      retryable: false,
    });
    await waitUntil(() => rig!.phone.outcomes.length === 1);
    expect(rig.phone.outcomes[0]).toMatchObject({ ok: false, code: 'declined' });
  });

  it('a phone user who never answers times the workstation out within its approval budget', async () => {
    rig = await startRig({ phone: { approve: () => new Promise(() => undefined) } });
    const started = Date.now();
    expect(await rig.workstation.unlock({ budgetMs: 5_000, approvalTimeoutMs: 300 })).toMatchObject({
      ok: false,
      code: 'approval-timeout',
    });
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
