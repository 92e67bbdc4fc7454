// What the Control Center relays or keeps sealed (docs/online-protocol.md "Replenishment",
// "Events", "Recovery PIN"): pool envelopes (idempotent PUT, confirmation, superseding),
// events deduplicated by id, and recovery PINs opened only when an admin reveals them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPoolConfirm, signPoolConfirm } from '../../protocol/online/approvals.js';
import { newId } from '../../protocol/online/ids.js';
import { DeviceInboxResponseSchema, PoolDeliveryStatusResponseSchema } from '../../protocol/online/http-bodies.js';
import { PostEventsResponseSchema, PutRecoveryPinResponseSchema } from '../../protocol/online/http-bodies.js';
import { RevealRecoveryPinResponseSchema } from '../../protocol/online/http-bodies.js';
import { openPoolEnvelope, sealPoolEnvelope, type PoolEnvelope } from '../../protocol/online/pool-envelope.js';
import { sealTo } from '../../protocol/online/sealed-box.js';
import { ApiClient, CALL, any, countRows, enroll, failure, fromBase64url, installToken, newPhone } from './helpers.js';
import { longPoll } from './helpers.js';
import { putSettings } from './helpers.js';
import { failureCode } from './helpers.js';
import { pair, queryDb, startTestCc, toBase64url, type TestCc, type TestPhone } from './helpers.js';
import type { TestWorkstation } from './helpers.js';
import { randomBytes } from '../../protocol/crypto/hashes.js';

let t: TestCc;
let ws: TestWorkstation;
let phone: TestPhone;
beforeAll(async () => {
  t = await startTestCc();
  ws = await enroll(t, await installToken(t), 'relay-ws');
  phone = await newPhone(t, 'relay-phone');
  await pair(t, ws, phone, 'alice');
});
afterAll(() => t.close());

async function envelope(deliveryId: string, poolId = newId('pool')): Promise<PoolEnvelope> {
  const contents = {
    deliveryId,
    poolId,
    workstationId: ws.id,
    user: 'alice',
    seed: toBase64url(randomBytes(32)),
    charset: 'alphanumeric' as const,
    length: 8,
    counter: 0,
    count: 25,
    issuedAt: t.clock.now(),
  };
  return sealPoolEnvelope(contents, phone.deviceId, phone.box.publicKey, ws.key.privateKey);
}

describe('pool deliveries', () => {
  it('relays the envelope to the phone and the signed confirmation back; every step is idempotent', async () => {
    const deliveryId = newId('pd');
    const sealed = await envelope(deliveryId);
    const put = { user: 'alice', deviceId: phone.deviceId, envelope: sealed };
    expect(await putDelivery(ws, deliveryId, put)).toEqual({ status: 'pending' });
    expect(await putDelivery(ws, deliveryId, { envelope: sealed, deviceId: phone.deviceId, user: 'alice' })).toEqual({
      status: 'pending',
    });
    const different = await failure(putDelivery(ws, deliveryId, { ...put, envelope: await envelope(deliveryId) }));
    expect(different.code).toBe('conflict');

    const inbox = await phone.client.call('GET', '/v1/device/inbox?wait=5', undefined, DeviceInboxResponseSchema, CALL);
    expect(inbox.poolDeliveries).toHaveLength(1);
    const opened = await openPoolEnvelope(
      inbox.poolDeliveries[0]!.envelope,
      ws.key.publicKey,
      phone.box.privateKey,
      phone.box.publicKey,
      { deviceId: phone.deviceId, workstationId: ws.id },
    );
    expect(opened.ok).toBe(true);
    if (!opened.ok) return;

    const { answer: waitingWs } = await longPoll(
      ws,
      `/v1/workstation/pool-deliveries/${deliveryId}`,
      PoolDeliveryStatusResponseSchema,
    );
    const fields = {
      deliveryId,
      poolId: opened.contents.poolId,
      deviceId: phone.deviceId,
      workstationId: ws.id,
      user: 'alice',
    };
    const confirm = {
      poolId: opened.contents.poolId,
      signature: await signPoolConfirm(fields, phone.signing.privateKey),
    };
    await confirmDelivery(phone, deliveryId, confirm);
    const status = await waitingWs;
    expect(status.status).toBe('confirmed');
    if (status.status !== 'confirmed') return;
    expect(
      await checkPoolConfirm({ ...fields, poolId: status.poolId }, status.signature, phone.signing.publicKey),
    ).toBe(true);
    // Repeats are harmless; a different confirmation is not.
    await confirmDelivery(phone, deliveryId, confirm);
    expect(await putDelivery(ws, deliveryId, put)).toMatchObject({ status: 'confirmed' });
    const otherPool = { ...fields, poolId: newId('pool') };
    const conflicting = {
      poolId: otherPool.poolId,
      signature: await signPoolConfirm(otherPool, phone.signing.privateKey),
    };
    expect(
      await failureCode(
        phone.client.call('POST', `/v1/device/pool-deliveries/${deliveryId}/confirm`, conflicting, any, CALL),
      ),
    ).toBe('conflict');
    expect(
      (await phone.client.call('GET', '/v1/device/inbox', undefined, DeviceInboxResponseSchema, CALL)).poolDeliveries,
    ).toEqual([]);
    // The CC stored ciphertext only: the seed appears nowhere in its database.
    expect(
      queryDb<{ body: string }>(t.databaseFile, 'SELECT body FROM pool_deliveries WHERE id = ?', deliveryId)[0]!.body,
    ).not.toContain(opened.contents.seed);
  });

  it('supersedes an unconfirmed delivery with a newer one for the same user and phone', async () => {
    const older = newId('pd');
    const newer = newId('pd');
    await putDelivery(ws, older, { user: 'alice', deviceId: phone.deviceId, envelope: await envelope(older) });
    await putDelivery(ws, newer, { user: 'alice', deviceId: phone.deviceId, envelope: await envelope(newer) });
    const inbox = await phone.client.call('GET', '/v1/device/inbox', undefined, DeviceInboxResponseSchema, CALL);
    expect(inbox.poolDeliveries.map((d) => d.deliveryId)).toEqual([newer]);
    expect(
      await failureCode(ws.client.call('GET', `/v1/workstation/pool-deliveries/${older}`, undefined, any, CALL)),
    ).toBe('gone');
    const fields = { deliveryId: older, poolId: 'p', deviceId: phone.deviceId, workstationId: ws.id, user: 'alice' };
    const late = { poolId: 'p', signature: await signPoolConfirm(fields, phone.signing.privateKey) };
    expect(
      await failureCode(phone.client.call('POST', `/v1/device/pool-deliveries/${older}/confirm`, late, any, CALL)),
    ).toBe('gone');
  });

  it('refuses an envelope whose ids disagree with the request, or for a phone not paired here', async () => {
    const deliveryId = newId('pd');
    const sealed = await envelope(deliveryId);
    const mismatch = await failure(
      ws.client.call(
        'PUT',
        `/v1/workstation/pool-deliveries/${newId('pd')}`,
        { user: 'alice', deviceId: phone.deviceId, envelope: sealed },
        any,
        CALL,
      ),
    );
    expect(mismatch.code).toBe('bad-request');
    const stranger = await failure(
      ws.client.call(
        'PUT',
        `/v1/workstation/pool-deliveries/${deliveryId}`,
        { user: 'bob', deviceId: phone.deviceId, envelope: { ...sealed, user: 'bob' } },
        any,
        CALL,
      ),
    );
    expect(stranger.code).toBe('not-found');
  });
});

describe('events', () => {
  it('stores each event id once, however often the agent retries', async () => {
    const event = (id: string) => ({
      id,
      time: t.clock.now(),
      type: 'verify' as const,
      user: 'alice',
      result: 'accepted',
      reason: null,
      context: 'offline',
    });
    const first = [event(newId('ev')), event(newId('ev')), event(newId('ev'))];
    expect(
      await ws.client.call('POST', '/v1/workstation/events', { events: first }, PostEventsResponseSchema, CALL),
    ).toEqual({ stored: 3, duplicates: 0 });
    expect(
      await ws.client.call(
        'POST',
        '/v1/workstation/events',
        { events: [...first, event(newId('ev'))] },
        PostEventsResponseSchema,
        CALL,
      ),
    ).toEqual({ stored: 1, duplicates: 3 });
    expect(countRows(t.databaseFile, 'events')).toBe(4);
    const listed = (await t.admin.call(
      'GET',
      `/v1/admin/events?workstationId=${ws.id}&limit=2`,
      undefined,
      any,
      CALL,
    )) as { events: { id: string }[]; next: number | null };
    expect(listed.events).toHaveLength(2);
    const rest = (await t.admin.call(
      'GET',
      `/v1/admin/events?workstationId=${ws.id}&before=${listed.next}`,
      undefined,
      any,
      CALL,
    )) as { events: unknown[]; next: null };
    expect(rest.events).toHaveLength(2);
    expect(rest.next).toBeNull();
  });
});

describe('recovery PIN', () => {
  const pin = 'ABCDEFGHJKMN';
  const sealPin = async (user: string) => {
    const box = await sealTo(
      fromBase64url(ws.enrolled.ccBoxKey),
      new TextEncoder().encode(pin),
      new TextEncoder().encode(`${ws.id}\u0000${user}`),
      'latchkey-recovery-pin-v1',
    );
    return { eph: toBase64url(box.eph), nonce: toBase64url(box.nonce), ciphertext: toBase64url(box.ciphertext) };
  };

  it('is refused while the setting is off, then revealed only to an admin, and every reveal is audited', async () => {
    expect(
      await failureCode(
        ws.client.call('PUT', '/v1/workstation/recovery-pins/alice', await sealPin('alice'), any, CALL),
      ),
    ).toBe('conflict');
    await putSettings(t, { recoveryPin: true });
    await ws.client.call(
      'PUT',
      '/v1/workstation/recovery-pins/alice',
      await sealPin('alice'),
      PutRecoveryPinResponseSchema,
      CALL,
    );
    // A user name that needs percent-encoding travels too.
    await ws.client.call(
      'PUT',
      `/v1/workstation/recovery-pins/${encodeURIComponent('Jo Doe')}`,
      await sealPin('Jo Doe'),
      PutRecoveryPinResponseSchema,
      CALL,
    );

    const revealed = await t.admin.call(
      'POST',
      '/v1/admin/recovery-pins/reveal',
      { workstationId: ws.id, user: 'alice' },
      RevealRecoveryPinResponseSchema,
      CALL,
    );
    expect(revealed.pin).toBe(pin);
    expect(
      (
        await t.admin.call(
          'POST',
          '/v1/admin/recovery-pins/reveal',
          { workstationId: ws.id, user: 'Jo Doe' },
          RevealRecoveryPinResponseSchema,
          CALL,
        )
      ).pin,
    ).toBe(pin);
    expect(
      queryDb(t.databaseFile, "SELECT actor, result FROM audit WHERE action = 'recovery-pin.reveal' ORDER BY id"),
    ).toEqual([
      { actor: expect.stringMatching(/^admin:at_/), result: 'revealed' },
      { actor: expect.stringMatching(/^admin:at_/), result: 'revealed' },
    ]);

    const noToken = new ApiClient({ baseUrl: t.url });
    expect(
      await failureCode(
        noToken.call('POST', '/v1/admin/recovery-pins/reveal', { workstationId: ws.id, user: 'alice' }, any, CALL),
      ),
    ).toBe('unauthenticated');
    expect(
      await failureCode(
        phone.client.call('POST', '/v1/admin/recovery-pins/reveal', { workstationId: ws.id, user: 'alice' }, any, CALL),
      ),
    ).toBe('unauthenticated');
    expect(t.logLines.join('')).not.toContain(pin);

    await putSettings(t, { recoveryPin: false });
    const off = await failure(
      t.admin.call('POST', '/v1/admin/recovery-pins/reveal', { workstationId: ws.id, user: 'alice' }, any, CALL),
    );
    expect(off.code).toBe('forbidden');
    expect(
      queryDb(t.databaseFile, "SELECT result FROM audit WHERE action = 'recovery-pin.reveal' ORDER BY id DESC LIMIT 1"),
    ).toEqual([{ result: 'off' }]);
  });
});

/** A workstation puts a pool delivery for a phone (docs/online-protocol.md "Replenishment"). */
function putDelivery(ws: TestWorkstation, deliveryId: string, body: unknown) {
  return ws.client.call(
    'PUT',
    `/v1/workstation/pool-deliveries/${deliveryId}`,
    body,
    PoolDeliveryStatusResponseSchema,
    CALL,
  );
}

/** A phone confirms it imported a pool (docs/online-protocol.md "Replenishment"). */
function confirmDelivery(phone: TestPhone, deliveryId: string, body: unknown) {
  return phone.client.call(
    'POST',
    `/v1/device/pool-deliveries/${deliveryId}/confirm`,
    body,
    PoolDeliveryStatusResponseSchema,
    CALL,
  );
}
