/** Pool deliveries (phone/core/pool-import.ts): open, keep pending, confirm, switch, idempotently. */
import { describe, expect, it } from 'vitest';
import { ED25519, X25519, generateKeyPair } from '../../../protocol/crypto/webcrypto.js';
import { deriveOfflinePin, formatPinForDisplay } from '../../../protocol/offline-pin.js';
import { Phone } from '../../../phone/core/phone.js';
import type { FetchLike } from '../../../platform/api-client.js';
import { deliverAndImport, makeFixture, pairPhone, type Fixture } from '../helpers/phone-fixture.js';

const ws = { workstation: 'build-box' };

/** The same phone (same store and keys) on a network that loses every pool confirmation. */
async function phoneWithoutConfirmations(fx: Fixture): Promise<Phone> {
  const fetch: FetchLike = async (url, init) => {
    if (/\/confirm$/.test(url)) throw new TypeError('fetch failed');
    return fx.cc.fetch(url, init);
  };
  return Phone.open({ store: fx.store, clock: fx.clock, fetch });
}
const pinOf = (seed: Uint8Array, counter: number) =>
  formatPinForDisplay(deriveOfflinePin(seed, counter, { charset: 'alphanumeric', length: 8 }), 'alphanumeric');

describe('pool deliveries', () => {
  it('imports, confirms with a signature the workstation verifies, and fetches the settings', async () => {
    const fx = await makeFixture({ offlineMode: true, pinCount: 30, lowPinWarnPercent: 10 });
    await pairPhone(fx);
    const { contents, events } = await deliverAndImport(fx, 'ana', { count: 30 });
    expect(events).toEqual([
      expect.objectContaining({ event: 'pool-imported', deliveryId: contents.deliveryId, count: 30, confirmed: true }),
    ]);
    expect(await fx.ws.confirmationVerifies(contents.deliveryId)).toBe(true);
    const pairing = await fx.pairing();
    expect(pairing.pool).toMatchObject({
      deliveryId: contents.deliveryId,
      poolId: contents.poolId,
      start: 0,
      next: 0,
      count: 30,
    });
    expect(pairing.pendingPool).toBeNull();
    expect(pairing.settings).toMatchObject({ offlineMode: true, pinCount: 30, lowPinWarnPercent: 10 });
  });

  it('switches to a new pool once confirmed and deletes the old seed', async () => {
    const fx = await makeFixture();
    await pairPhone(fx);
    const first = await deliverAndImport(fx);
    await fx.phone.longPress(ws);
    fx.clock.advance(1000);
    const second = await deliverAndImport(fx);
    const pairing = await fx.pairing();
    expect(pairing.pool!.deliveryId).toBe(second.contents.deliveryId);
    expect(JSON.stringify(await fx.store.read())).not.toContain(first.contents.seed);
    expect(await fx.phone.longPress(ws)).toMatchObject({ pin: pinOf(second.seed, 0), remaining: 24 });
  });

  it('a confirmation that fails keeps both pools, shows the new one’s PINs, and switches on retry', async () => {
    const fx = await makeFixture();
    await pairPhone(fx);
    const first = await deliverAndImport(fx);
    const pairing = await fx.pairing();
    fx.clock.advance(1000);
    const second = await fx.ws.deliverPool('ana', pairing.deviceId);
    const cutOff = await phoneWithoutConfirmations(fx);
    expect(await cutOff.serveRound({ waitSeconds: 0 })).toEqual([
      expect.objectContaining({ event: 'pool-imported', deliveryId: second.contents.deliveryId, confirmed: false }),
    ]);
    let state = await fx.pairing();
    expect(state.pool!.deliveryId).toBe(first.contents.deliveryId);
    expect(state.pendingPool).toMatchObject({ deliveryId: second.contents.deliveryId, confirmTriedAt: fx.clock.now() });
    // The confirmation may have gone through: the new pool is the one the agent surely accepts.
    expect(await fx.phone.longPress(ws)).toMatchObject({ pin: pinOf(second.seed, 0) });
    expect(await fx.phone.serveRound({ waitSeconds: 0 })).toEqual([
      expect.objectContaining({ event: 'pool-imported', deliveryId: second.contents.deliveryId, confirmed: true }),
    ]);
    state = await fx.pairing();
    expect(state.pool).toMatchObject({ deliveryId: second.contents.deliveryId, next: 1 });
    expect(state.pendingPool).toBeNull();
  });

  it('a confirmation whose answer was lost is sent again although the inbox no longer lists the delivery', async () => {
    const fx = await makeFixture();
    const pairing = await pairPhone(fx);
    const delivered = await fx.ws.deliverPool('ana', pairing.deviceId);
    const answerLost: FetchLike = async (url, init) => {
      const answer = await fx.cc.fetch(url, init);
      if (/\/confirm$/.test(url)) throw new TypeError('connection reset');
      return answer;
    };
    const lossy = await Phone.open({ store: fx.store, clock: fx.clock, fetch: answerLost });
    await lossy.serveRound({ waitSeconds: 0 });
    expect(fx.cc.deliveries.get(delivered.contents.deliveryId)!.confirmed).toBeDefined(); // the CC has it
    expect((await fx.pairing()).pendingPool).not.toBeNull(); // the phone does not know
    expect(await fx.phone.serveRound({ waitSeconds: 0 })).toEqual([
      expect.objectContaining({ event: 'pool-imported', deliveryId: delivered.contents.deliveryId, confirmed: true }),
    ]);
    expect(await fx.pairing()).toMatchObject({
      pool: { deliveryId: delivered.contents.deliveryId },
      pendingPool: null,
    });
  });

  it('uses a pending pool when no current one exists (the agent takes its PIN as the confirmation)', async () => {
    const fx = await makeFixture();
    const pairing = await pairPhone(fx);
    const delivered = await fx.ws.deliverPool('ana', pairing.deviceId);
    const cutOff = await phoneWithoutConfirmations(fx);
    expect(await cutOff.serveRound({ waitSeconds: 0 })).toEqual([
      expect.objectContaining({ event: 'pool-imported', confirmed: false }),
    ]);
    expect((await fx.pairing()).pendingPool!.deliveryId).toBe(delivered.contents.deliveryId);
    expect(await cutOff.longPress(ws)).toMatchObject({ screen: 'offline-pin', pin: pinOf(delivered.seed, 0) });
    // The retry keeps the counter: the next PIN is 1, not 0 again.
    await fx.phone.serveRound({ waitSeconds: 0 });
    expect((await fx.pairing()).pool).toMatchObject({ deliveryId: delivered.contents.deliveryId, next: 1 });
  });

  it('drops a pending pool the Control Center says is gone', async () => {
    const fx = await makeFixture();
    const pairing = await pairPhone(fx);
    await fx.ws.deliverPool('ana', pairing.deviceId);
    const gone = new TextEncoder().encode(JSON.stringify({ error: { code: 'gone', message: 'superseded' } }));
    const fetch: FetchLike = async (url, init) =>
      /\/confirm$/.test(url) ? { status: 410, arrayBuffer: async () => gone.slice().buffer } : fx.cc.fetch(url, init);
    const phone = await Phone.open({ store: fx.store, clock: fx.clock, fetch });
    expect(await phone.serveRound({ waitSeconds: 0 })).toEqual([
      expect.objectContaining({ event: 'pool-refused', code: 'delivery-gone' }),
    ]);
    expect(await fx.pairing()).toMatchObject({ pool: null, pendingPool: null });
  });

  it('a delivery listed again is confirmed again, never re-imported (the counter stays)', async () => {
    const fx = await makeFixture();
    await pairPhone(fx);
    const { contents } = await deliverAndImport(fx);
    await fx.phone.longPress(ws);
    await fx.phone.longPress(ws);
    fx.cc.deliveries.get(contents.deliveryId)!.confirmed = undefined; // the CC lost the confirmation
    expect(await fx.phone.serveRound({ waitSeconds: 0 })).toEqual([
      expect.objectContaining({ event: 'pool-imported', confirmed: true }),
    ]);
    expect((await fx.pairing()).pool).toMatchObject({ deliveryId: contents.deliveryId, next: 2 });
    expect(fx.cc.deliveries.get(contents.deliveryId)!.confirmed).toBeDefined();
  });

  it('ignores a pool older than the one held', async () => {
    const fx = await makeFixture();
    await pairPhone(fx);
    const newer = await deliverAndImport(fx);
    const older = await deliverAndImport(fx, 'ana', { issuedAt: fx.clock.now() - 60_000 });
    expect(older.events).toEqual([expect.objectContaining({ event: 'pool-refused', code: 'stale' })]);
    expect((await fx.pairing()).pool!.deliveryId).toBe(newer.contents.deliveryId);
  });

  it('refuses a pool not signed by the paired workstation, or not sealed to this phone, and confirms nothing', async () => {
    const fx = await makeFixture();
    await pairPhone(fx);
    const forged = await deliverAndImport(fx, 'ana', { signWith: await generateKeyPair(ED25519) });
    expect(forged.events).toEqual([expect.objectContaining({ event: 'pool-refused', code: 'envelope-signature' })]);
    const other = await generateKeyPair(X25519);
    const misdirected = await deliverAndImport(fx, 'ana', { sealFor: other.publicKey });
    expect(misdirected.events).toContainEqual(
      expect.objectContaining({ event: 'pool-refused', code: 'envelope-undecryptable' }),
    );
    expect([...fx.cc.deliveries.values()].every((d) => d.confirmed === undefined)).toBe(true);
    expect((await fx.pairing()).pool).toBeNull();
  });

  it('refuses a pool for a user this phone is not paired for there', async () => {
    const fx = await makeFixture();
    const pairing = await pairPhone(fx);
    await fx.ws.deliverPool('mallory', pairing.deviceId);
    expect(await fx.phone.serveRound({ waitSeconds: 0 })).toEqual([
      expect.objectContaining({ event: 'pool-refused', code: 'not-paired', user: 'mallory' }),
    ]);
  });
});
