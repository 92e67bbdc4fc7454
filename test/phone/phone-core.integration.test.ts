/**
 * The phone core against the real Control Center on loopback (SQLite in a temp dir), with its
 * real vault on disk and real time; the workstation side is driven by the real protocol
 * functions (helpers/cc-workstation.ts). No fakes.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileVaultStore } from '../../phone/cli/vault-file.js';
import { Phone, newPhoneState } from '../../phone/core/phone.js';
import { startTestCc, type TestCc, putSettings } from '../control-center/helpers.js';
import { makeTempDir } from '../helpers/agent-harness.js';
import { CcWorkstation, workstationPin } from './helpers/cc-workstation.js';

const PASS = new TextEncoder().encode('correct horse battery');
let t: TestCc;

beforeAll(async () => {
  t = await startTestCc();
  await putSettings(t, { offlineMode: true, pinCount: 10, lowPinWarnPercent: 30 });
});
afterAll(async () => {
  await t?.close();
});

async function newPhone(): Promise<Phone> {
  const home = path.join(await makeTempDir('latchkey-phone-'), 'phone');
  const store = await FileVaultStore.create(home, PASS, await newPhoneState('Ana’s phone', Date.now()));
  return Phone.open({ store });
}

async function pairedPhone(ws: CcWorkstation, user: string, phone?: Phone) {
  const p = phone ?? (await newPhone());
  const { code, accept } = await ws.pairingCode(user);
  const [pairing, deviceId] = await Promise.all([p.pair(code, t.url), accept()]);
  expect(pairing.deviceId).toBe(deviceId);
  return { phone: p, deviceId };
}

describe('phone core ↔ real Control Center', () => {
  it('pairs: each side checks the other’s MAC; the workstation is then listed with its settings', async () => {
    const ws = await CcWorkstation.enroll(t, 'build-box');
    const { phone } = await pairedPhone(ws, 'ana');
    const screen = await phone.mainScreen();
    expect(screen).toMatchObject({
      noInternet: false,
      tiles: [
        {
          workstationId: ws.id,
          workstationName: 'build-box',
          user: 'ana',
          active: true,
          offline: { ok: false, code: 'no-sign-in-yet' },
        },
      ],
    });
  });

  it('approves a workstation’s auth request with a signature the workstation verifies against the paired key', async () => {
    const ws = await CcWorkstation.enroll(t, 'desk-1');
    const { phone } = await pairedPhone(ws, 'ana');
    const request = await ws.createAuthRequest('ana');
    const events = await phone.serveRound({ waitSeconds: 5 });
    expect(events).toEqual([
      expect.objectContaining({ event: 'auth-request', requestId: request.requestId, workstationName: 'desk-1' }),
    ]);
    expect(await phone.decide(undefined, 'approve')).toMatchObject({
      requestId: request.requestId,
      decision: 'approve',
    });
    expect(await ws.approvedByPhone('ana', request)).toBe(true);
  });

  it('a tap is answered through the workstation inbox (intent → auth request) and approved; the pool that follows imports and its PINs match', async () => {
    const ws = await CcWorkstation.enroll(t, 'desk-2');
    const { phone, deviceId } = await pairedPhone(ws, 'ana');
    let sealed: { seed: Uint8Array; deliveryId: string } | undefined;
    const stop = ws.answerIntents((user, request) => {
      void ws.approvedByPhone(user, request).then(async (ok) => {
        if (!ok) return;
        const { seed, contents } = await ws.deliverPool(user, deviceId, { count: 10 });
        sealed = { seed, deliveryId: contents.deliveryId };
      });
    });
    try {
      expect(await phone.tap({ workstation: 'desk-2' }, { waitForPoolMs: 10_000 })).toMatchObject({
        screen: 'approved',
        replenished: true,
      });
    } finally {
      stop();
    }
    expect(await ws.confirmedByPhone('ana', deviceId, sealed!.deliveryId)).toBe(true);
    const pins = [];
    for (let c = 0; c < 10; c++) pins.push(await phone.longPress({ workstation: ws.id }));
    expect(pins.map((s) => (s.screen === 'offline-pin' ? s.pin : s.code))).toEqual(
      Array.from({ length: 10 }, (_, c) => workstationPin(sealed!.seed, c)),
    );
    // R8 from the Control Center's settings (30 % of 10 = 3), R10 after the last.
    expect(pins.map((s) => s.screen === 'offline-pin' && s.low)).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
      true,
      true,
      true,
      true,
    ]);
    expect(await phone.longPress({ workstation: ws.id })).toMatchObject({
      screen: 'no-offline-pin',
      code: 'pins-exhausted',
    });
  });

  it('R9: a second pool replaces the first once confirmed; the old one is superseded when it was never confirmed', async () => {
    const ws = await CcWorkstation.enroll(t, 'desk-3');
    const { phone, deviceId } = await pairedPhone(ws, 'ana');
    const first = await ws.deliverPool('ana', deviceId, { count: 10 });
    const second = await ws.deliverPool('ana', deviceId, { count: 10 }); // supersedes the first at the CC
    const events = await phone.serveRound({ waitSeconds: 5 });
    expect(events).toEqual([
      expect.objectContaining({ event: 'pool-imported', deliveryId: second.contents.deliveryId, confirmed: true }),
    ]);
    expect(await ws.confirmedByPhone('ana', deviceId, second.contents.deliveryId)).toBe(true);
    expect(await phone.longPress({ workstation: 'desk-3' })).toMatchObject({ pin: workstationPin(second.seed, 0) });
    await expect(ws.confirmedByPhone('ana', deviceId, first.contents.deliveryId)).rejects.toMatchObject({
      code: 'gone',
    });
  });

  it('R4: with the Control Center gone, the main screen says so and a tap shows the offline PIN at once', async () => {
    const own = await startTestCc();
    await putSettings(own, { offlineMode: true });
    const ws = await CcWorkstation.enroll(own, 'laptop');
    const phone = await newPhone();
    const { code, accept } = await ws.pairingCode('ana');
    const [, deviceId] = await Promise.all([phone.pair(code, own.url), accept()]);
    const { seed } = await ws.deliverPool('ana', deviceId);
    await phone.serveRound({ waitSeconds: 5 });
    await own.close();
    expect(await phone.mainScreen()).toMatchObject({
      noInternet: true,
      tiles: [{ offline: { ok: true, remaining: 25 } }],
    });
    const started = Date.now();
    expect(await phone.tap({ workstation: 'laptop' })).toMatchObject({
      screen: 'offline-pin',
      via: 'no-internet',
      pin: workstationPin(seed, 0),
    });
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('another user’s phone cannot see or approve a request', async () => {
    const ws = await CcWorkstation.enroll(t, 'shared');
    const { phone: anas } = await pairedPhone(ws, 'ana');
    const { phone: bobs } = await pairedPhone(ws, 'bob');
    const request = await ws.createAuthRequest('ana');
    expect(await bobs.serveRound({ waitSeconds: 0 })).toEqual([]);
    await expect(bobs.decide(request.requestId, 'approve')).rejects.toMatchObject({ code: 'unknown-request' });
    expect(await anas.serveRound({ waitSeconds: 0 })).toEqual([
      expect.objectContaining({ requestId: request.requestId }),
    ]);
  });
});
