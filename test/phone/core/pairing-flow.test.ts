/** Pairing from the phone's side (docs/online-protocol.md "Pairing a phone", step 2). */
import { describe, expect, it } from 'vitest';
import { PhoneError } from '../../../phone/core/errors.js';
import { CC_URL, makeFixture, pairPhone } from '../helpers/phone-fixture.js';

async function rejects(promise: Promise<unknown>, code: string): Promise<PhoneError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PhoneError);
  expect((error as PhoneError).code).toBe(code);
  return error as PhoneError;
}

describe('pairing', () => {
  it('redeems the code with a proof and a device MAC the workstation accepts, and keeps the pairing', async () => {
    const fx = await makeFixture();
    const pairing = await pairPhone(fx);
    expect(pairing).toMatchObject({
      workstationId: fx.ws.workstationId,
      workstationName: 'build-box',
      user: 'ana',
      url: CC_URL,
      pool: null,
      pendingPool: null,
    });
    // The same device keys serve a second user at the same workstation; the Control Center knows the key.
    const second = await pairPhone(fx, 'bob');
    expect(second.deviceId).toBe(pairing.deviceId);
    expect((await fx.store.read()).pairings).toHaveLength(2);
    // Each pairing has a credential key of its own (docs/windows.md §6.3): the public half went to the
    // Control Center under the MAC and the proof (the memory Control Center checks the proof).
    const [first, again] = (await fx.store.read()).pairings;
    expect(first?.credentialKey?.public).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(again?.credentialKey?.public).not.toBe(first?.credentialKey?.public);
    const redeemed = [...fx.cc.pairings.values()].map((p) => p.redeemed);
    expect(redeemed.map((r) => r?.credentialKey)).toEqual([first?.credentialKey?.public, again?.credentialKey?.public]);
  });

  it('forgets the pairing when the workstation MAC does not check out (keys swapped in between)', async () => {
    const fx = await makeFixture();
    const { code } = await fx.ws.pairingCode('ana', { tamperMac: true });
    const error = await rejects(fx.phone.pair(code, CC_URL), 'pairing-mac-mismatch');
    expect(error.message).toMatch(/not saved/);
    expect((await fx.store.read()).pairings).toEqual([]);
  });

  it('refuses a malformed code without asking the Control Center', async () => {
    const fx = await makeFixture();
    await rejects(fx.phone.pair('ABCDE-1234', CC_URL), 'bad-pairing-code');
    await rejects(fx.phone.pair('ABCDE-1234-5678-9UUU', CC_URL), 'bad-pairing-code');
    expect(fx.cc.calls).toEqual([]);
  });

  it('a used code is refused with a sentence saying to show a new one, and the secret is in no message', async () => {
    const fx = await makeFixture();
    const { code } = await fx.ws.pairingCode('ana');
    await fx.phone.pair(code, CC_URL);
    const error = await rejects(fx.phone.pair(code, CC_URL), 'pairing-refused');
    expect(error.message).toMatch(/expired or was already used/);
    const secret = code.replace(/-/g, '').slice(5);
    expect(error.message).not.toContain(secret);
  });

  it('needs a network (R4: nothing is attempted in airplane mode)', async () => {
    const fx = await makeFixture();
    const { code } = await fx.ws.pairingCode('ana');
    fx.setNetwork(false);
    await rejects(fx.phone.pair(code, CC_URL), 'unreachable');
    fx.setNetwork(true);
    fx.cc.reachable = false;
    await rejects(fx.phone.pair(code, CC_URL), 'unreachable');
  });

  it('unpair forgets the pairing and its seeds', async () => {
    const fx = await makeFixture();
    await pairPhone(fx);
    const gone = await fx.phone.unpair({ workstation: 'BUILD-BOX' });
    expect(gone.user).toBe('ana');
    expect((await fx.store.read()).pairings).toEqual([]);
    await rejects(fx.phone.unpair({ workstation: 'build-box' }), 'unknown-workstation');
  });
});
