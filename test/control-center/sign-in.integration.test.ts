// Online sign-in through a real Control Center (docs/online-protocol.md "Online sign-in"):
// auth request → the phone's long-poll wakes → signed decision → the workstation's long-poll
// sees it and checks the signature itself; another user's phone sees and answers nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkApproval } from '../../protocol/online/approvals.js';
import { AuthStatusResponseSchema } from '../../protocol/online/http-bodies.js';
import { DeviceInboxResponseSchema, SignInIntentResponseSchema } from '../../protocol/online/http-bodies.js';
import { WorkstationInboxResponseSchema } from '../../protocol/online/http-bodies.js';
import { CALL, any, failure, queryDb } from './helpers.js';
import { longPoll, signedDecision } from './helpers.js';
import { failureCode } from './helpers.js';
import { toBase64url, type TestCc, type TestPhone, type TestWorkstation } from './helpers.js';
import { randomBytes } from '../../protocol/crypto/hashes.js';
import { askAuth, authStatus, sendDecision } from './helpers.js';
import { startPairedWorkstation } from '../helpers/paired-workstation.js';

let t: TestCc;
let ws: TestWorkstation;
let alice: TestPhone;
let bob: TestPhone;
beforeAll(async () => {
  const options = { rateLimits: { redeemPerMinute: 1000 } };
  [t, ws, alice, bob] = await startPairedWorkstation(options, 'sign-in-ws', ['alice', 'bob']);
});
afterAll(() => t.close());

const challenge = () => toBase64url(randomBytes(32));

async function decide(phone: TestPhone, requestId: string, decision: 'approve' | 'deny', user = 'alice', c?: string) {
  const found =
    c ??
    queryDb<{ challenge: string }>(t.databaseFile, 'SELECT challenge FROM auth_requests WHERE id = ?', requestId)[0]!
      .challenge;
  return signedDecision(phone, { requestId, workstationId: ws.id, user, challenge: found }, decision, t.clock.now());
}

describe('push approval', () => {
  it('goes from the workstation to the phone and back, with a signature the workstation can check', async () => {
    const { answer: waitingPhone } = await longPoll(alice, '/v1/device/inbox', DeviceInboxResponseSchema);
    const c = challenge();
    const started = Date.now();
    const { requestId } = await askAuth(ws, { user: 'alice', challenge: c, ttlMs: 60_000 });
    const inbox = await waitingPhone;
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(inbox.authRequests).toEqual([
      expect.objectContaining({
        requestId,
        workstationId: ws.id,
        workstationName: 'sign-in-ws',
        user: 'alice',
        challenge: c,
        intentId: null,
      }),
    ]);

    const { answer: waitingWs } = await longPoll(
      ws,
      `/v1/workstation/auth-requests/${requestId}`,
      AuthStatusResponseSchema,
    );
    const { fields, body } = await decide(alice, requestId, 'approve', 'alice', c);
    await sendDecision(alice, requestId, body, AuthStatusResponseSchema);
    const status = await waitingWs;
    expect(status.status).toBe('approved');
    if (status.status !== 'approved') return;
    // The agent's own check, with the key it learned at pairing and its own challenge.
    expect(
      await checkApproval(
        { ...fields, deviceId: status.deviceId, signedAt: status.signedAt },
        status.signature,
        alice.signing.publicKey,
      ),
    ).toBe(true);
    const empty = await alice.client.call('GET', '/v1/device/inbox', undefined, DeviceInboxResponseSchema, CALL);
    expect(empty.authRequests).toEqual([]);
    expect(
      queryDb(
        t.databaseFile,
        "SELECT result FROM audit WHERE action = 'auth-request.decide' AND target = ?",
        requestId,
      ),
    ).toEqual([{ result: 'approve' }]);
  });

  it('relays a denial the same way', async () => {
    const { requestId } = await askAuth(ws, { user: 'alice', challenge: challenge(), ttlMs: 60_000 });
    await sendDecision(alice, requestId, (await decide(alice, requestId, 'deny')).body);
    const status = await authStatus(ws, requestId);
    expect(status).toMatchObject({ status: 'denied', decision: 'deny', deviceId: alice.deviceId });
  });

  it('keeps the first decision: the same again is 200, another is 409, a forged signature is 400', async () => {
    const { requestId } = await askAuth(ws, { user: 'alice', challenge: challenge(), ttlMs: 60_000 });
    const forged = await decide(alice, requestId, 'approve');
    const bad = await failure(sendDecision(alice, requestId, { ...forged.body, decision: 'deny' }));
    expect(bad.code).toBe('bad-request');
    expect(bad.message).toMatch(/signature/);
    await sendDecision(alice, requestId, forged.body);
    await sendDecision(alice, requestId, forged.body);
    const other = await decide(alice, requestId, 'deny');
    expect(await failureCode(sendDecision(alice, requestId, other.body))).toBe('conflict');
  });

  it('expires an unanswered request: the workstation sees expired, a late decision is 410', async () => {
    const { requestId } = await askAuth(ws, { user: 'alice', challenge: challenge(), ttlMs: 1000 });
    const started = Date.now();
    const status = await ws.client.call(
      'GET',
      `/v1/workstation/auth-requests/${requestId}?wait=10`,
      undefined,
      AuthStatusResponseSchema,
      CALL,
    );
    expect(status.status).toBe('expired');
    expect(Date.now() - started).toBeLessThan(5_000); // woke at the expiry, not at the end of wait
    expect(await failureCode(sendDecision(alice, requestId, (await decide(alice, requestId, 'approve')).body))).toBe(
      'gone',
    );
  });

  it('refuses an auth request for a user with no paired phone (409)', async () => {
    const error = await failure(
      ws.client.call(
        'POST',
        '/v1/workstation/auth-requests',
        { user: 'nobody', challenge: challenge(), ttlMs: 5000 },
        any,
        CALL,
      ),
    );
    expect(error.code).toBe('conflict');
  });
});

describe("another user's phone", () => {
  it('neither sees nor answers the request, even with a valid signature of its own', async () => {
    const { requestId } = await askAuth(ws, { user: 'alice', challenge: challenge(), ttlMs: 60_000 });
    const inbox = await bob.client.call('GET', '/v1/device/inbox', undefined, DeviceInboxResponseSchema, CALL);
    expect(inbox.authRequests.map((r) => r.requestId)).not.toContain(requestId);
    const attempt = await decide(bob, requestId, 'approve');
    expect(await failureCode(sendDecision(bob, requestId, attempt.body))).toBe('not-found');
    expect((await authStatus(ws, requestId)).status).toBe('pending');
    // Nor can bob start a sign-in as alice.
    expect(
      await failureCode(
        bob.client.call('POST', '/v1/device/sign-in', { workstationId: ws.id, user: 'alice' }, any, CALL),
      ),
    ).toBe('not-found');
  });
});

describe('phone-initiated sign-in (R3)', () => {
  it('puts an intent in the workstation inbox, which the auth request naming it answers once', async () => {
    const { answer: waitingWs } = await longPoll(ws, '/v1/workstation/inbox', WorkstationInboxResponseSchema);
    const { intentId } = await alice.client.call(
      'POST',
      '/v1/device/sign-in',
      { workstationId: ws.id, user: 'alice' },
      SignInIntentResponseSchema,
      CALL,
    );
    const inbox = await waitingWs;
    expect(inbox.intents).toEqual([expect.objectContaining({ intentId, user: 'alice', deviceId: alice.deviceId })]);
    const { requestId } = await askAuth(ws, { user: 'alice', challenge: challenge(), ttlMs: 30_000, intentId });
    const phoneInbox = await alice.client.call('GET', '/v1/device/inbox', undefined, DeviceInboxResponseSchema, CALL);
    expect(phoneInbox.authRequests.find((r) => r.requestId === requestId)?.intentId).toBe(intentId);
    expect(
      (await ws.client.call('GET', '/v1/workstation/inbox', undefined, WorkstationInboxResponseSchema, CALL)).intents,
    ).toEqual([]);
    const again = await failure(
      ws.client.call(
        'POST',
        '/v1/workstation/auth-requests',
        { user: 'alice', challenge: challenge(), ttlMs: 30_000, intentId },
        any,
        CALL,
      ),
    );
    expect(again.code).toBe('conflict');
  });
});
