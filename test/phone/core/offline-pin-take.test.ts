/** Showing a PIN writes its counter first (phone/core/offline-pin-take.ts): no PIN is ever shown twice. */
import { describe, expect, it } from 'vitest';
import { takeOfflinePin } from '../../../phone/core/offline-pin-take.js';
import type { PhoneState } from '../../../phone/core/phone-state.js';
import type { PhoneStore } from '../../../phone/core/ports.js';
import { deliverAndImport, makeFixture, pairPhone } from '../helpers/phone-fixture.js';

const ref = { workstation: 'build-box' };

describe('takeOfflinePin', () => {
  it('persists next = c + 1 before the PIN is derived', async () => {
    const fx = await makeFixture();
    await pairPhone(fx);
    await deliverAndImport(fx);
    const writes: number[] = [];
    const observed: PhoneStore = {
      read: () => fx.store.read(),
      update: async (change) => {
        const result = await fx.store.update(change);
        writes.push((await fx.store.read()).pairings[0]!.pool!.next);
        return result;
      },
    };
    const first = await takeOfflinePin(observed, ref, fx.clock.now());
    expect(first).toMatchObject({ ok: true, counter: 0 });
    expect(writes).toEqual([1]);
    expect(await takeOfflinePin(observed, ref, fx.clock.now())).toMatchObject({ ok: true, counter: 1 });
    expect(writes).toEqual([1, 2]);
  });

  it('shows nothing when the counter cannot be written', async () => {
    const fx = await makeFixture();
    await pairPhone(fx);
    await deliverAndImport(fx);
    const before: PhoneState = await fx.store.read();
    const broken: PhoneStore = {
      read: () => fx.store.read(),
      update: async () => {
        throw new Error('disk full');
      },
    };
    await expect(takeOfflinePin(broken, ref, fx.clock.now())).rejects.toThrow('disk full');
    expect(await fx.store.read()).toEqual(before);
    expect(await takeOfflinePin(fx.store, ref, fx.clock.now())).toMatchObject({ ok: true, counter: 0 });
  });

  it('a refusal writes nothing that matters and names the reason', async () => {
    const fx = await makeFixture();
    await pairPhone(fx);
    expect(await takeOfflinePin(fx.store, ref, fx.clock.now())).toMatchObject({
      ok: false,
      code: 'no-sign-in-yet',
      workstationName: 'build-box',
    });
  });
});
