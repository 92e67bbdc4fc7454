// Pairing a phone to (user, workstation) through a real Control Center (docs/online-protocol.md
// "Pairing"): MACs both ways, single use, 5 failed tries burn a pairing, guessing ids is
// rate-limited, a redemption before the workstation MAC is 409.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreatePairingResponseSchema, DeviceWorkstationsResponseSchema } from '../../protocol/online/http-bodies.js';
import { PairingStatusResponseSchema } from '../../protocol/online/http-bodies.js';
import { derivePairingKey, newPairingId, newPairingSecret } from '../../protocol/online/pairing-keys.js';
import { signDeviceProof } from '../../protocol/online/pairing-keys.js';
import { CALL, any, enroll, failure, installToken, newPhone, openPairing, pair, queryDb, redeem } from './helpers.js';
import { longPoll } from './helpers.js';
import type { TestPhone } from './helpers.js';
import { failureCode } from './helpers.js';
import { redeemBody, startTestCc, toBase64url, type TestCc, type TestWorkstation } from './helpers.js';

let t: TestCc;
let ws: TestWorkstation;
beforeAll(async () => {
  t = await startTestCc({ rateLimits: { redeemPerMinute: 1000 } });
  ws = await enroll(t, await installToken(t), 'pairing-ws');
});
afterAll(() => t.close());

describe('pairing end to end', () => {
  it('binds the phone to (user, workstation) once both MACs check, and the phone sees the workstation and its settings', async () => {
    const phone = await newPhone(t, 'alice-phone');
    await pair(t, ws, phone, 'alice');
    expect(phone.deviceId).toMatch(/^dev_/);
    const listed = await deviceWorkstations(phone);
    expect(listed.workstations).toEqual([
      expect.objectContaining({ workstationId: ws.id, workstationName: 'pairing-ws', user: 'alice' }),
    ]);
    expect(listed.workstations[0]!.settings.offlineMode).toBe(false);
    expect(queryDb(t.databaseFile, 'SELECT user FROM bindings WHERE device_id = ?', phone.deviceId)).toEqual([
      { user: 'alice' },
    ]);
  });

  it('keeps one deviceId when the same phone pairs with a second workstation', async () => {
    const phone = await newPhone(t);
    await pair(t, ws, phone, 'carol');
    const first = phone.deviceId;
    const other = await enroll(t, await installToken(t), 'second-ws');
    await pair(t, other, phone, 'carol');
    expect(phone.deviceId).toBe(first);
    const listed = await deviceWorkstations(phone);
    expect(listed.workstations.map((w) => w.workstationName).sort()).toEqual(['pairing-ws', 'second-ws']);
  });

  it("relays the phone's credential key under its proof; a key the proof does not cover is refused (docs/windows.md §6.3)", async () => {
    const phone = await newPhone(t, 'keyed-phone');
    const credentialKey = toBase64url(new Uint8Array(32).fill(7));
    const { pairingId, pairingKey } = await openPairing(ws, 'erin');
    // Added after signing (a proxy, or a Control Center client gone wrong): the proof no longer verifies.
    const unkeyed = await redeemBody(phone, pairingId, pairingKey);
    expect(
      await failure(phone.client.call('POST', '/v1/devices/pair', { ...unkeyed, credentialKey }, any, CALL)),
    ).toMatchObject({
      status: 401,
      code: 'unauthenticated',
    });
    expect(
      (await failure(phone.client.call('POST', '/v1/devices/pair', { ...unkeyed, credentialKey: 'short' }, any, CALL)))
        .message,
    ).toMatch(/credentialKey must be a base64url 32-byte key/);
    const keyed = await redeemBody(phone, pairingId, pairingKey, credentialKey);
    await phone.client.call('POST', '/v1/devices/pair', keyed, any, CALL);
    const status = await pairingStatus(pairingId);
    expect(status).toMatchObject({ status: 'redeemed', device: { credentialKey, deviceMac: keyed.deviceMac } });
    // A phone without one pairs as before: no credentialKey anywhere.
    const plain = await newPhone(t, 'plain-phone');
    const second = await openPairing(ws, 'erin');
    await redeem(plain, second.pairingId, second.pairingKey);
    const plainStatus = await pairingStatus(second.pairingId);
    expect(plainStatus.status === 'redeemed' && plainStatus.device).not.toHaveProperty('credentialKey');
  });

  it('wakes the workstation waiting on the pairing when the phone redeems it', async () => {
    const { pairingId, pairingKey } = await openPairing(ws, 'dave');
    const started = Date.now();
    const { answer: waiting } = await longPoll(
      ws,
      `/v1/workstation/pairings/${pairingId}`,
      PairingStatusResponseSchema,
    );
    const phone = await newPhone(t);
    await redeem(phone, pairingId, pairingKey);
    const status = await waiting;
    expect(status.status).toBe('redeemed');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('refuses a second redemption of a used pairing (410) and a rejected pairing binds nothing', async () => {
    const { pairingId, pairingKey } = await openPairing(ws, 'erin');
    const phone = await newPhone(t);
    await redeem(phone, pairingId, pairingKey);
    const intruder = await newPhone(t);
    expect(
      (
        await failure(
          intruder.client.call(
            'POST',
            '/v1/devices/pair',
            await redeemBody(intruder, pairingId, pairingKey),
            any,
            CALL,
          ),
        )
      ).status,
    ).toBe(410);
    // The agent finds the device MAC wrong (say) and rejects: no binding, and the answer cannot change.
    await ws.client.call('POST', `/v1/workstation/pairings/${pairingId}/confirm`, { accept: false }, any, CALL);
    expect(
      await failureCode(
        ws.client.call('POST', `/v1/workstation/pairings/${pairingId}/confirm`, { accept: true }, any, CALL),
      ),
    ).toBe('conflict');
    expect(queryDb(t.databaseFile, "SELECT 1 FROM bindings WHERE user = 'erin'")).toEqual([]);
    const error = await failure(
      ws.client.call(
        'POST',
        '/v1/workstation/auth-requests',
        { user: 'erin', challenge: 'A'.repeat(43), ttlMs: 5000 },
        any,
        CALL,
      ),
    );
    expect(error.code).toBe('conflict');
  });

  it('burns a pairing after 5 failed redemptions; a correct one after that is 410', async () => {
    const { pairingId, pairingKey } = await openPairing(ws, 'frank');
    const attacker = await newPhone(t);
    const other = await newPhone(t);
    for (let i = 1; i <= 5; i++) {
      const body = await redeemBody(attacker, pairingId, pairingKey);
      const wrongProof = await signDeviceProof(
        { pairingId, signingKey: attacker.signingKey, boxKey: attacker.boxKey, name: attacker.name },
        other.signing.privateKey,
      );
      const error = await failure(
        attacker.client.call('POST', '/v1/devices/pair', { ...body, proof: wrongProof }, any, CALL),
      );
      expect(error.code).toBe('unauthenticated');
      if (i === 5) expect(error.message).toMatch(/burnt/);
    }
    const phone = await newPhone(t);
    expect(
      (
        await failure(
          phone.client.call('POST', '/v1/devices/pair', await redeemBody(phone, pairingId, pairingKey), any, CALL),
        )
      ).status,
    ).toBe(410);
    const status = await pairingStatus(pairingId);
    expect(status.status).toBe('burnt');
  });

  it('answers 409 to a redemption before the workstation uploaded its MAC', async () => {
    const { pairingId } = await ws.client.call(
      'POST',
      '/v1/workstation/pairings',
      { user: 'gina' },
      CreatePairingResponseSchema,
      CALL,
    );
    const phone = await newPhone(t);
    const pairingKey = await derivePairingKey(pairingId, newPairingSecret());
    const error = await failure(
      phone.client.call('POST', '/v1/devices/pair', await redeemBody(phone, pairingId, pairingKey), any, CALL),
    );
    expect(error.code).toBe('conflict');
    expect(
      queryDb<{ tries: number; state: string }>(
        t.databaseFile,
        'SELECT tries, state FROM pairings WHERE id = ?',
        pairingId,
      ),
    ).toEqual([{ tries: 1, state: 'open' }]);
  });

  it('expires a pairing after 10 minutes (410), and only the workstation that opened it sees it', async () => {
    const { pairingId, pairingKey } = await openPairing(ws, 'hal');
    const other = await enroll(t, await installToken(t), 'nosy-ws');
    expect(
      await failureCode(other.client.call('GET', `/v1/workstation/pairings/${pairingId}`, undefined, any, CALL)),
    ).toBe('not-found');
    t.clock.offsetMs += 10 * 60_000 + 1000;
    try {
      const phone = await newPhone(t);
      expect(
        await failureCode(
          phone.client.call('POST', '/v1/devices/pair', await redeemBody(phone, pairingId, pairingKey), any, CALL),
        ),
      ).toBe('gone');
    } finally {
      t.clock.offsetMs -= 10 * 60_000 + 1000;
    }
  });
});

describe('guessing pairing ids', () => {
  it('gets 404s and then 429 within 10 tries a minute, and the live pairing is untouched', async () => {
    const limited = await startTestCc();
    try {
      const target = await enroll(limited, await installToken(limited), 'target');
      const { pairingId, pairingKey } = await openPairing(target, 'victim');
      const guesser = await newPhone(limited);
      const codes: string[] = [];
      for (let i = 0; i < 11; i++) {
        let guess = newPairingId();
        while (guess === pairingId) guess = newPairingId();
        codes.push(
          await failureCode(
            guesser.client.call('POST', '/v1/devices/pair', await redeemBody(guesser, guess, pairingKey), any, CALL),
          ),
        );
      }
      expect(codes.slice(0, 10)).toEqual(Array(10).fill('not-found'));
      expect(codes[10]).toBe('rate-limited');
      // Even the right id is refused from this address until the minute is over.
      expect(
        await failureCode(
          guesser.client.call('POST', '/v1/devices/pair', await redeemBody(guesser, pairingId, pairingKey), any, CALL),
        ),
      ).toBe('rate-limited');
      expect(queryDb(limited.databaseFile, 'SELECT tries, state FROM pairings WHERE id = ?', pairingId)).toEqual([
        { tries: 0, state: 'open' },
      ]);
      expect(
        queryDb<{ n: number }>(
          limited.databaseFile,
          "SELECT count(*) AS n FROM audit WHERE action = 'pairing.redeem' AND result = 'unknown-pairing'",
        )[0]!.n,
      ).toBe(10);
    } finally {
      await limited.close();
    }
  });
});

/** What a phone lists as its workstations (docs/online-protocol.md "Phone API"). */
/** The pairing as the workstation that opened it sees it. */
function pairingStatus(pairingId: string) {
  return ws.client.call('GET', `/v1/workstation/pairings/${pairingId}`, undefined, PairingStatusResponseSchema, CALL);
}

function deviceWorkstations(phone: TestPhone) {
  return phone.client.call('GET', '/v1/device/workstations', undefined, DeviceWorkstationsResponseSchema, CALL);
}
