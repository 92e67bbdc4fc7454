/**
 * A tap and a long press (phone/core/sign-in-flow.ts), rule by rule, on a FakeClock: the five
 * seconds of R3 pass when the test says so, never in real time.
 */
import { describe, expect, it } from 'vitest';
import { renderOfflinePinScreen } from '../../../phone/core/sentences.js';
import { OFFLINE_OFFER_AFTER_MS } from '../../../phone/core/sign-in-flow.js';
import { deriveOfflinePin, formatPinForDisplay } from '../../../protocol/offline-pin.js';
import { deliverAndImport, makeFixture, pairPhone, type Fixture } from '../helpers/phone-fixture.js';

const ws = { workstation: 'build-box' };
const pinOf = (seed: Uint8Array, counter: number) =>
  formatPinForDisplay(deriveOfflinePin(seed, counter, { charset: 'alphanumeric', length: 8 }), 'alphanumeric');

/** Taps, lets the R3 timer run out, and returns the screen. */
async function tapUnanswered(fx: Fixture, options: Parameters<Fixture['phone']['tap']>[1] = {}) {
  const screen = fx.phone.tap(ws, options);
  await fx.clock.untilSleeping(OFFLINE_OFFER_AFTER_MS);
  fx.clock.advance(OFFLINE_OFFER_AFTER_MS - 1);
  expect(fx.clock.pendingTimers).toBeGreaterThan(0); // 4.999 s: still waiting for the workstation
  fx.clock.advance(1);
  return screen;
}

describe('tap while online', () => {
  it('approves the auth request that carries its intent, with a signature the workstation verifies', async () => {
    const fx = await makeFixture();
    await pairPhone(fx);
    fx.ws.answerIntents();
    const screen = await fx.phone.tap(ws);
    expect(screen).toMatchObject({ screen: 'approved', workstationName: 'build-box', user: 'ana', replenished: false });
    const [request] = [...fx.cc.authRequests.values()];
    expect(request!.decision!.decision).toBe('approve');
    expect(await fx.ws.approvalVerifies(request!.requestId)).toBe(true);
    expect((await fx.pairing()).lastApprovedAt).toBe(fx.clock.now());
  });

  it('leaves other auth requests alone while it waits for its own', async () => {
    const fx = await makeFixture();
    await pairPhone(fx);
    const other = fx.ws.createAuthRequest('ana');
    fx.ws.answerIntents();
    expect(await fx.phone.tap(ws)).toMatchObject({ screen: 'approved' });
    expect(fx.cc.authRequests.get(other)!.decision).toBeUndefined();
  });

  it('R9: the pool that follows the approval is imported, confirmed, and its PINs are the workstation’s', async () => {
    const fx = await makeFixture();
    await pairPhone(fx);
    let seed: Uint8Array | undefined;
    fx.ws.answerIntents();
    fx.cc.onDecision = (request) =>
      void fx.ws.deliverPool(request.user, request.decision!.deviceId).then((d) => (seed = d.seed));
    const screen = await fx.phone.tap(ws, { waitForPoolMs: 10_000 });
    expect(screen).toMatchObject({ screen: 'approved', replenished: true });
    const [delivery] = [...fx.cc.deliveries.values()];
    expect(await fx.ws.confirmationVerifies(delivery!.deliveryId)).toBe(true);
    expect(await fx.phone.longPress(ws)).toMatchObject({
      screen: 'offline-pin',
      pin: pinOf(seed!, 0),
      position: 1,
      count: 25,
    });
  });

  it("shows a PIN for the policy's display timeout (pinDisplaySeconds), and says so on the screen", async () => {
    const fx = await makeFixture({ offlineMode: true, pinDisplaySeconds: 45 });
    await pairPhone(fx);
    fx.ws.answerIntents();
    fx.cc.onDecision = (request) => void fx.ws.deliverPool(request.user, request.decision!.deviceId);
    await fx.phone.tap(ws, { waitForPoolMs: 10_000 });
    const screen = await fx.phone.longPress(ws);
    expect(screen).toMatchObject({ screen: 'offline-pin', displaySeconds: 45, hideAt: fx.clock.now() + 45_000 });
    expect(renderOfflinePinScreen(screen).join('\n')).toContain('The PIN is hidden after 45 seconds.');
  });

  it('R1: where Offline Mode is off, an approval does not wait for a pool that will not come', async () => {
    const fx = await makeFixture({ offlineMode: false });
    await pairPhone(fx);
    await fx.phone.mainScreen(); // learns the settings
    fx.ws.answerIntents();
    expect(await fx.phone.tap(ws, { waitForPoolMs: 10_000 })).toMatchObject({ screen: 'approved', replenished: false });
    expect(fx.clock.pendingTimers).toBe(0);
  });

  it('R1, R9: Offline Mode turned on since pairing — the approval waits for the pool that now follows', async () => {
    const fx = await makeFixture({ offlineMode: false });
    await pairPhone(fx);
    await fx.phone.mainScreen(); // learns "off"
    const listed = fx.cc.workstations.get(fx.ws.workstationId)!;
    listed.settings = { ...listed.settings, offlineMode: true }; // the admin turns it on
    fx.ws.answerIntents();
    fx.cc.onDecision = (request) => void fx.ws.deliverPool(request.user, request.decision!.deviceId);
    expect(await fx.phone.tap(ws, { waitForPoolMs: 10_000 })).toMatchObject({ screen: 'approved', replenished: true });
  });

  it('R3: no auth request within 5 s → the offline PIN (the next one in order)', async () => {
    const fx = await makeFixture();
    await pairPhone(fx);
    const { seed } = await deliverAndImport(fx);
    const screen = await tapUnanswered(fx);
    expect(screen).toMatchObject({
      screen: 'offline-pin',
      via: 'workstation-not-answering',
      pin: pinOf(seed, 0),
      remaining: 24,
    });
    expect(fx.cc.calls).toContain('POST /v1/device/sign-in');
    expect(await tapUnanswered(fx)).toMatchObject({ pin: pinOf(seed, 1), position: 2 });
  });

  it('R3: the offer alone does not use up a PIN', async () => {
    const fx = await makeFixture();
    await pairPhone(fx);
    const { seed } = await deliverAndImport(fx);
    expect(await tapUnanswered(fx, { takeOffer: false })).toMatchObject({ screen: 'offline-pin-offered' });
    expect(await fx.phone.useOfflinePin(ws)).toMatchObject({ screen: 'offline-pin', pin: pinOf(seed, 0) });
  });

  it('R2, R6: before a successful sign-in the 5 s pass and no offline PIN is offered', async () => {
    const fx = await makeFixture();
    await pairPhone(fx);
    expect(await tapUnanswered(fx)).toMatchObject({
      screen: 'no-offline-pin',
      via: 'workstation-not-answering',
      code: 'no-sign-in-yet',
    });
    expect(await tapUnanswered(fx, { takeOffer: false })).toMatchObject({
      screen: 'no-offline-pin',
      code: 'no-sign-in-yet',
    });
  });

  it('R1: Offline Mode off → no offline PIN after the 5 s, on a long press or without internet', async () => {
    const fx = await makeFixture({ offlineMode: true });
    await pairPhone(fx);
    await deliverAndImport(fx);
    const listed = fx.cc.workstations.get(fx.ws.workstationId)!;
    listed.settings = { ...listed.settings, offlineMode: false };
    await fx.phone.mainScreen(); // the phone learns the setting when online
    expect(await tapUnanswered(fx)).toMatchObject({ screen: 'no-offline-pin', code: 'offline-mode-off' });
    expect(await fx.phone.longPress(ws)).toMatchObject({ screen: 'no-offline-pin', code: 'offline-mode-off' });
    fx.setNetwork(false);
    expect(await fx.phone.tap(ws)).toMatchObject({
      screen: 'no-offline-pin',
      via: 'no-internet',
      code: 'offline-mode-off',
    });
  });
});

describe('tap without internet (R4)', () => {
  it('goes straight to the offline PIN when the Control Center does not answer — no 5 s wait', async () => {
    const fx = await makeFixture();
    await pairPhone(fx);
    const { seed } = await deliverAndImport(fx);
    fx.cc.reachable = false;
    const screen = await fx.phone.tap(ws);
    expect(screen).toMatchObject({ screen: 'offline-pin', via: 'no-internet', pin: pinOf(seed, 0) });
    expect(fx.clock.pendingTimers).toBe(0);
  });

  it('with no network at all it does not even try', async () => {
    const fx = await makeFixture();
    await pairPhone(fx);
    const { seed } = await deliverAndImport(fx);
    fx.setNetwork(false);
    const calls = fx.cc.calls.length;
    expect(await fx.phone.tap(ws)).toMatchObject({ screen: 'offline-pin', via: 'no-internet', pin: pinOf(seed, 0) });
    expect(fx.cc.calls.length).toBe(calls);
  });

  it('the Control Center vanishing during the wait goes to the offline PIN at once', async () => {
    const fx = await makeFixture();
    await pairPhone(fx);
    const { seed } = await deliverAndImport(fx);
    fx.cc.onIntent = () => {
      fx.cc.reachable = false;
    };
    expect(await fx.phone.tap(ws)).toMatchObject({ screen: 'offline-pin', via: 'no-internet', pin: pinOf(seed, 0) });
  });
});

describe('long press (R5)', () => {
  it('shows the next offline PIN while online, without a sign-in attempt', async () => {
    const fx = await makeFixture();
    await pairPhone(fx);
    const { seed } = await deliverAndImport(fx);
    fx.ws.answerIntents();
    const calls = fx.cc.calls.length;
    expect(await fx.phone.longPress(ws)).toMatchObject({
      screen: 'offline-pin',
      via: 'long-press',
      pin: pinOf(seed, 0),
    });
    expect(fx.cc.calls.length).toBe(calls);
    expect(fx.cc.authRequests.size).toBe(0);
  });
});

describe('running low and out (R8, R10)', () => {
  it('warns from the threshold on, says when it was the last, then shows an error', async () => {
    const fx = await makeFixture({ offlineMode: true, pinCount: 10, lowPinWarnPercent: 20 });
    await pairPhone(fx);
    const { seed } = await deliverAndImport(fx, 'ana', { count: 10 });
    const screens = [];
    for (let i = 0; i < 10; i++) screens.push(await fx.phone.longPress(ws));
    expect(screens.map((s) => (s.screen === 'offline-pin' ? [s.pin, s.remaining, s.low] : null))).toEqual(
      Array.from({ length: 10 }, (_, c) => [pinOf(seed, c), 9 - c, 9 - c <= 2]),
    );
    expect(await fx.phone.longPress(ws)).toMatchObject({ screen: 'no-offline-pin', code: 'pins-exhausted' });
    expect((await fx.phone.mainScreen()).tiles[0]!.offline).toEqual({ ok: false, code: 'pins-exhausted' });
  });
});
