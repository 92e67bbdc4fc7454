// The admin API behind the console's Fleet and Audit pages (docs/console.md "Pages",
// docs/online-protocol.md "Lockout reset"): the policy version a workstation holds, its users and
// phones, ending one phone's pairing, a lockout reset through the workstation's inbox, and the
// uploaded events filtered by user, type and time.
import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient, eventsToCsv } from '../../control-center/admin-client.js';
import { newId } from '../../protocol/online/ids.js';
import { SignedPolicySchema, WorkstationInboxResponseSchema } from '../../protocol/online/http-bodies.js';
import { CALL, any, enroll, failure, installToken, newPhone, pair, startTestCc, type TestCc } from './helpers.js';
import { failureCode } from './helpers.js';
import type { TestPhone, TestWorkstation } from './helpers.js';
import { acceptedEvent } from './workstation-event.js';

let t: TestCc;
let admin: AdminClient;
let ws: TestWorkstation;
let phone: TestPhone;
beforeAll(async () => {
  t = await startTestCc();
  admin = new AdminClient(t.admin, CALL.timeoutMs);
  ws = await enroll(t, await installToken(t), 'fleet-ws');
  phone = await newPhone(t, 'Pixel');
  await pair(t, ws, phone, 'alice');
  await pair(t, ws, phone, 'bob');
});
afterAll(() => t.close());

describe('the fleet view', () => {
  it('lists each workstation with the policy version it holds, its users and its phones', async () => {
    expect((await admin.workstations({ limit: 10 })).workstations[0]).toMatchObject({
      workstationId: ws.id,
      policyVersion: null,
      users: ['alice', 'bob'],
      phones: 1,
    });
    await admin.putSettings({ offlineMode: true });
    const { revision } = await admin.settings();
    await ws.client.call('GET', `/v1/workstation/policy?since=${revision}`, undefined, SignedPolicySchema, CALL);
    expect((await admin.workstations({ limit: 10 })).workstations[0]!.policyVersion).toBe(revision);
    const detail = await admin.workstation(ws.id);
    expect(detail.phones).toMatchObject([
      { deviceId: phone.deviceId, name: 'Pixel', user: 'alice', pairedAt: expect.any(Number) },
      { deviceId: phone.deviceId, name: 'Pixel', user: 'bob', pairedAt: expect.any(Number) },
    ]);
    expect(await failureCode(admin.workstation(newId('ws')))).toBe('not-found');
  });

  it('unpairs a phone from one user: the Control Center stops relaying for that pair, the other pairing stays', async () => {
    await admin.unpair(ws.id, phone.deviceId, 'bob');
    expect((await admin.workstation(ws.id)).phones.map((p) => p.user)).toEqual(['alice']);
    const bound = (
      await phone.client.call(
        'GET',
        '/v1/device/workstations',
        undefined,
        v.object({ workstations: v.array(v.object({ user: v.string() })) }),
        CALL,
      )
    ).workstations;
    expect(bound.map((w) => w.user)).toEqual(['alice']);
    const again = await failure(admin.unpair(ws.id, phone.deviceId, 'bob'));
    expect(again).toMatchObject({
      code: 'not-found',
      message: 'That phone is not paired for that user on this workstation.',
    });
    const audit = await admin.audit({ limit: 5 });
    expect(audit.entries.find((e) => e.action === 'device.unpair')).toMatchObject({
      target: phone.deviceId,
      detail: { workstationId: ws.id, user: 'bob' },
    });
  });

  it('hands a lockout reset to the workstation through its inbox, and records it done once', async () => {
    const inbox = () => ws.client.call('GET', '/v1/workstation/inbox', undefined, WorkstationInboxResponseSchema, CALL);
    expect(await inbox()).toEqual({ intents: [] }); // no lockoutResets key while there is none
    const waiting = ws.client.call(
      'GET',
      '/v1/workstation/inbox?wait=10',
      undefined,
      WorkstationInboxResponseSchema,
      CALL,
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    const asked = await admin.resetLockout(ws.id, 'alice');
    expect(asked).toMatchObject({ user: 'alice', doneAt: null, requestedBy: expect.stringMatching(/^admin:at_/) });
    expect((await waiting).lockoutResets).toEqual([
      { resetId: asked.resetId, user: 'alice', requestedAt: asked.requestedAt },
    ]); // woken at once
    const done = await ws.client.call(
      'POST',
      `/v1/workstation/lockout-resets/${asked.resetId}`,
      { result: 'cleared' },
      any,
      CALL,
    );
    expect(done).toMatchObject({ resetId: asked.resetId, result: 'cleared', doneAt: expect.any(Number) });
    expect(
      await ws.client.call(
        'POST',
        `/v1/workstation/lockout-resets/${asked.resetId}`,
        { result: 'no-state' },
        any,
        CALL,
      ),
    ).toMatchObject({ result: 'cleared' });
    expect(await inbox()).toEqual({ intents: [] });
    expect((await admin.workstation(ws.id)).lockoutResets).toMatchObject([
      { resetId: asked.resetId, result: 'cleared' },
    ]);
    const other = await enroll(t, await installToken(t), 'other-ws');
    expect(
      await failureCode(
        other.client.call('POST', `/v1/workstation/lockout-resets/${asked.resetId}`, { result: 'cleared' }, any, CALL),
      ),
    ).toBe('not-found');
    expect(
      await failureCode(
        ws.client.call('POST', `/v1/workstation/lockout-resets/${asked.resetId}`, { result: 'maybe' }, any, CALL),
      ),
    ).toBe('bad-request');
  });
});

describe('uploaded events, filtered', () => {
  it('by user, kind and time, and exported as CSV that a spreadsheet cannot run', async () => {
    const now = t.clock.now();
    await ws.client.call(
      'POST',
      '/v1/workstation/events',
      {
        events: [
          acceptedEvent(now - 3000, 'verify', 'alice', '=HYPERLINK("x")'),
          acceptedEvent(now - 2000, 'online-auth', 'alice'),
          acceptedEvent(now - 1000, 'verify', 'carol'),
          acceptedEvent(now, 'enroll', 'alice'),
        ],
      },
      any,
      CALL,
    );
    const types = (page: Awaited<ReturnType<AdminClient['events']>>) => page.events.map((e) => `${e.type}:${e.user}`);
    expect(types(await admin.events({ limit: 50, user: 'alice', types: ['verify', 'online-auth'] }))).toEqual([
      'online-auth:alice',
      'verify:alice',
    ]);
    expect(types(await admin.events({ limit: 50, since: now - 1500, until: now - 500 }))).toEqual(['verify:carol']);
    expect(types(await admin.events({ limit: 50, workstationId: ws.id, types: ['enroll'] }))).toEqual(['enroll:alice']);
    expect((await failure(admin.events({ limit: 50, types: ['verify', 'nonsense'] }))).message).toMatch(
      /^Query: type must be a comma-separated list of verify, /,
    );
    const csv = eventsToCsv((await admin.events({ limit: 50, user: 'alice', types: ['verify'] })).events);
    const [header, row] = csv.split('\r\n');
    expect(header).toBe('time,workstationId,user,type,result,reason,context,receivedAt,id');
    expect(row).toContain(`,${ws.id},alice,verify,accepted,,"'=HYPERLINK(""x"")",`);
  });
});
