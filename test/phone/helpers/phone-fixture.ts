/**
 * A phone core wired to the in-memory Control Center and a test workstation, with a FakeClock
 * and switchable connectivity: for unit tests of the core's logic.
 */
import { Phone, newPhoneState } from '../../../phone/core/phone.js';
import { MemoryStore } from '../../../phone/core/ports.js';
import type { Pairing } from '../../../phone/core/phone-state.js';
import type { Policy } from '../../../protocol/policy-settings.js';
import { FakeClock } from './fake-clock.js';
import { MemoryControlCenter } from './memory-control-center.js';
import { TestWorkstation } from './memory-workstation.js';

export const CC_URL = 'https://cc.example.test';

export interface Fixture {
  readonly clock: FakeClock;
  readonly cc: MemoryControlCenter;
  readonly ws: TestWorkstation;
  readonly store: MemoryStore;
  readonly phone: Phone;
  /** Airplane mode on (false) or off (true). */
  setNetwork(on: boolean): void;
  pairing(user?: string): Promise<Pairing>;
}

export async function makeFixture(settings: Partial<Policy> = { offlineMode: true }): Promise<Fixture> {
  const clock = new FakeClock();
  const cc = new MemoryControlCenter(clock);
  const ws = await TestWorkstation.create(cc, 'build-box', settings);
  const store = new MemoryStore(await newPhoneState('Ana’s phone', clock.now()));
  let network = true;
  const phone = await Phone.open({ store, clock, connectivity: { hasNetwork: () => network }, fetch: cc.fetch });
  return {
    clock,
    cc,
    ws,
    store,
    phone,
    setNetwork: (on) => {
      network = on;
    },
    pairing: async (user = 'ana') =>
      (await store.read()).pairings.find((p) => p.user === user && p.workstationId === ws.workstationId)!,
  };
}

/** Pairs the phone for `user` and lets the workstation accept, as the real flow does. */
export async function pairPhone(fx: Fixture, user = 'ana'): Promise<Pairing> {
  const { code, pairingId } = await fx.ws.pairingCode(user);
  await fx.phone.pair(code, CC_URL);
  await fx.ws.acceptPairing(pairingId);
  return fx.pairing(user);
}

/** The workstation delivers a pool after a sign-in and the phone's inbox imports it. */
export async function deliverAndImport(
  fx: Fixture,
  user = 'ana',
  format: Parameters<TestWorkstation['deliverPool']>[2] = {},
) {
  const pairing = await fx.pairing(user);
  const delivered = await fx.ws.deliverPool(user, pairing.deviceId, format);
  const events = await fx.phone.serveRound({ waitSeconds: 0 });
  return { ...delivered, events };
}
