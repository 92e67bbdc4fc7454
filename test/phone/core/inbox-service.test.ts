/** `serve`, `approve` and `deny` over the inbox (phone/core/inbox-service.ts). */
import { describe, expect, it } from 'vitest';
import { PhoneError } from '../../../phone/core/errors.js';
import { makeFixture, pairPhone } from '../helpers/phone-fixture.js';

describe('inbox', () => {
  it('lists waiting sign-in requests without deciding them', async () => {
    const fx = await makeFixture();
    await pairPhone(fx);
    const requestId = fx.ws.createAuthRequest('ana');
    expect(await fx.phone.serveRound({ waitSeconds: 0 })).toEqual([
      expect.objectContaining({
        event: 'auth-request',
        requestId,
        workstationName: 'build-box',
        user: 'ana',
        intentId: null,
      }),
    ]);
    expect(fx.cc.authRequests.get(requestId)!.decision).toBeUndefined();
  });

  it('long-polls until something arrives', async () => {
    const fx = await makeFixture();
    await pairPhone(fx);
    const round = fx.phone.serveRound({ waitSeconds: 25 });
    await fx.clock.untilSleeping(25_000);
    const requestId = fx.ws.createAuthRequest('ana');
    expect(await round).toEqual([expect.objectContaining({ event: 'auth-request', requestId })]);
  });

  it('--auto-approve approves with a signature the workstation verifies', async () => {
    const fx = await makeFixture();
    await pairPhone(fx);
    const requestId = fx.ws.createAuthRequest('ana');
    expect(await fx.phone.serveRound({ waitSeconds: 0, autoApprove: true })).toEqual([
      expect.objectContaining({ event: 'decided', requestId, decision: 'approve' }),
    ]);
    expect(await fx.ws.approvalVerifies(requestId)).toBe(true);
  });

  it('approve/deny: the only waiting request, or the one named; a denial is signed too', async () => {
    const fx = await makeFixture();
    await pairPhone(fx);
    await pairPhone(fx, 'bob');
    const first = fx.ws.createAuthRequest('ana');
    expect(await fx.phone.decide(undefined, 'deny')).toMatchObject({ requestId: first, decision: 'deny', user: 'ana' });
    expect(fx.cc.authRequests.get(first)!.decision!.decision).toBe('deny');
    expect(await fx.ws.approvalVerifies(first)).toBe(true);
    const a = fx.ws.createAuthRequest('ana');
    const b = fx.ws.createAuthRequest('bob');
    await expect(fx.phone.decide(undefined, 'approve')).rejects.toMatchObject({
      code: 'unknown-request',
      message: expect.stringContaining('2 sign-in requests'),
    });
    expect(await fx.phone.decide(b, 'approve')).toMatchObject({ requestId: b, user: 'bob' });
    expect(fx.cc.authRequests.get(a)!.decision).toBeUndefined();
    await expect(fx.phone.decide('ar_00000000000000000000000000', 'approve')).rejects.toBeInstanceOf(PhoneError);
  });

  it('an expired request is not signed', async () => {
    const fx = await makeFixture();
    await pairPhone(fx);
    fx.ws.createAuthRequest('ana', null, 5000);
    fx.clock.advance(5000);
    await expect(fx.phone.decide(undefined, 'approve')).rejects.toMatchObject({ code: 'unknown-request' });
  });

  it('an unreachable Control Center is an event for serve and an error for approve', async () => {
    const fx = await makeFixture();
    await pairPhone(fx);
    fx.cc.reachable = false;
    expect(await fx.phone.serveRound({ waitSeconds: 0 })).toEqual([
      { event: 'unreachable', url: 'https://cc.example.test' },
    ]);
    await expect(fx.phone.decide(undefined, 'approve')).rejects.toMatchObject({ code: 'unreachable' });
  });
});
