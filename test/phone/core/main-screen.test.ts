/** The main screen (phone/core/main-screen.ts) and its text (phone/core/sentences.ts). */
import { describe, expect, it } from 'vitest';
import { NO_INTERNET, renderMainScreen } from '../../../phone/core/sentences.js';
import { deliverAndImport, makeFixture, pairPhone } from '../helpers/phone-fixture.js';

describe('main screen', () => {
  it('R4: shows the no-internet message when the Control Center does not answer, and the cached PIN counts', async () => {
    const fx = await makeFixture({ offlineMode: true, pinCount: 10, lowPinWarnPercent: 30 });
    await pairPhone(fx);
    await deliverAndImport(fx, 'ana', { count: 10 });
    for (let i = 0; i < 7; i++) await fx.phone.longPress({ workstation: 'build-box' });
    fx.cc.reachable = false;
    const screen = await fx.phone.mainScreen();
    expect(screen).toMatchObject({
      noInternet: true,
      tiles: [
        { workstationName: 'build-box', user: 'ana', offline: { ok: true, remaining: 3, low: true }, active: null },
      ],
    });
    const text = renderMainScreen(screen).join('\n');
    expect(text).toContain(NO_INTERNET);
    expect(text).toContain('3 offline PINs left — sign in once online to get more.'); // R8
  });

  it('online: no banner; each tile says where it stands (R2/R6, R10)', async () => {
    const fx = await makeFixture();
    await pairPhone(fx);
    await pairPhone(fx, 'bob');
    await deliverAndImport(fx, 'bob', { count: 10 });
    for (let i = 0; i < 10; i++) await fx.phone.longPress({ workstation: 'build-box', user: 'bob' });
    const screen = await fx.phone.mainScreen();
    expect(screen.noInternet).toBe(false);
    const text = renderMainScreen(screen).join('\n');
    expect(text).not.toContain(NO_INTERNET);
    expect(text).toContain('Offline PINs appear after your first online sign-in at this workstation.');
    expect(text).toContain('Error: No offline PINs left — sign in once online to get new ones.');
  });

  it('marks a pairing the workstation has not accepted yet', async () => {
    const fx = await makeFixture();
    const { code } = await fx.ws.pairingCode('ana');
    await fx.phone.pair(code, 'https://cc.example.test');
    const screen = await fx.phone.mainScreen();
    expect(screen.tiles[0]!.active).toBe(false);
    expect(renderMainScreen(screen).join('\n')).toContain('has to accept the pairing');
  });

  it('airplane mode: the banner without asking anyone', async () => {
    const fx = await makeFixture();
    await pairPhone(fx);
    fx.setNetwork(false);
    const calls = fx.cc.calls.length;
    expect((await fx.phone.mainScreen()).noInternet).toBe(true);
    expect(fx.cc.calls.length).toBe(calls);
  });
});
