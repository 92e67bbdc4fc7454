// Who may call (docs/online-protocol.md "Request authentication"): a replayed nonce, a stale
// timestamp, a wrong key, a revoked phone, a removed workstation, a changed body and a wrong
// admin token are all 401, audited, and counted per address; keys have a budget.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceInboxResponseSchema, WorkstationInboxResponseSchema } from '../../protocol/online/http-bodies.js';
import { ED25519, generateKeyPair } from '../../protocol/crypto/webcrypto.js';
import { ApiClient, CALL, any, enroll, failure, installToken, newPhone, pair, queryDb, rawRequest } from './helpers.js';
import { failureCode, signedHeaders } from './helpers.js';
import { startTestCc, type TestCc, type TestPhone, type TestWorkstation } from './helpers.js';
import { startPairedWorkstation } from '../helpers/paired-workstation.js';

let t: TestCc;
let ws: TestWorkstation;
let phone: TestPhone;
beforeAll(async () => {
  const options = { rateLimits: { failuresPerMinute: 1000 } };
  [t, ws, phone] = await startPairedWorkstation(options, 'auth-ws', ['alice']);
});
afterAll(() => t.close());

const encoder = new TextEncoder();

describe('signed requests', () => {
  it('accept a request once and refuse the same bytes again (replayed nonce)', async () => {
    const path = '/v1/workstation/inbox';
    const headers = await signedHeaders(t, ws, 'GET', path);
    expect((await rawRequest(t.url, 'GET', path, { headers })).status).toBe(200);
    const replay = await rawRequest(t.url, 'GET', path, { headers });
    expect(replay.status).toBe(401);
    expect(replay.json?.error).toEqual({ code: 'unauthenticated', message: expect.stringMatching(/already received/) });
  });

  it('refuse a timestamp more than 5 minutes off the server clock, either way', async () => {
    for (const skew of [-6 * 60_000, 6 * 60_000]) {
      const skewed = new ApiClient({
        baseUrl: t.url,
        now: () => t.clock.now() + skew,
        signer: { keyId: ws.id, privateKey: ws.key.privateKey },
      });
      const error = await failure(skewed.call('GET', '/v1/workstation/inbox', undefined, any, CALL));
      expect(error.code).toBe('unauthenticated');
      expect(error.message).toMatch(/5 minutes/);
    }
  });

  it('refuse a request signed by another key, a phone key on a workstation route, a changed body, and no signature at all', async () => {
    const other = await generateKeyPair(ED25519);
    const impostor = new ApiClient({ baseUrl: t.url, signer: { keyId: ws.id, privateKey: other.privateKey } });
    expect(await failureCode(impostor.call('GET', '/v1/workstation/inbox', undefined, any, CALL))).toBe(
      'unauthenticated',
    );
    expect(await failureCode(phone.client.call('GET', '/v1/workstation/inbox', undefined, any, CALL))).toBe(
      'unauthenticated',
    );
    expect(await failureCode(ws.client.call('GET', '/v1/device/inbox', undefined, any, CALL))).toBe('unauthenticated');

    const path = '/v1/workstation/pairings';
    const signed = encoder.encode(JSON.stringify({ user: 'alice' }));
    const headers = await signedHeaders(t, ws, 'POST', path, signed);
    const changed = await rawRequest(t.url, 'POST', path, {
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'mallory' }),
    });
    expect(changed.status).toBe(401);
    expect(changed.json?.error?.message).toMatch(/does not verify/);
    expect(queryDb(t.databaseFile, "SELECT 1 FROM pairings WHERE user = 'mallory'")).toEqual([]);

    const unsigned = await rawRequest(t.url, 'GET', '/v1/workstation/inbox');
    expect(unsigned.status).toBe(401);
    expect(unsigned.json?.error?.message).toMatch(/not signed/);
  });

  it('refuse a phone an admin revoked and a workstation an admin removed', async () => {
    const extra = await newPhone(t, 'to-revoke');
    await pair(t, ws, extra, 'bob');
    await extra.client.call('GET', '/v1/device/inbox', undefined, DeviceInboxResponseSchema, CALL);
    await t.admin.call('DELETE', `/v1/admin/devices/${extra.deviceId}`, undefined, any, CALL);
    const revoked = await failure(extra.client.call('GET', '/v1/device/inbox', undefined, any, CALL));
    expect(revoked.code).toBe('unauthenticated');
    expect(revoked.message).toMatch(/revoked device key/);

    const doomed = await enroll(t, await installToken(t), 'doomed');
    await doomed.client.call('GET', '/v1/workstation/inbox', undefined, WorkstationInboxResponseSchema, CALL);
    await t.admin.call('DELETE', `/v1/admin/workstations/${doomed.id}`, undefined, any, CALL);
    expect(await failureCode(doomed.client.call('GET', '/v1/workstation/inbox', undefined, any, CALL))).toBe(
      'unauthenticated',
    );
    // Re-enrolling the removed key is refused too.
    expect(await failureCode(enroll(t, await installToken(t), 'doomed', doomed.key))).toBe('forbidden');
  });

  it('audit every refusal with the reason and the claimed key id', async () => {
    const rows = queryDb<{ actor: string; detail: string }>(
      t.databaseFile,
      "SELECT actor, detail FROM audit WHERE action IN ('workstation.auth', 'device.auth') AND result = 'refused'",
    );
    expect(rows.length).toBeGreaterThanOrEqual(8);
    expect(rows.map((r) => JSON.parse(r.detail).reason)).toEqual(
      expect.arrayContaining([expect.stringMatching(/replayed/), expect.stringMatching(/5 minutes/)]),
    );
    expect(rows.some((r) => r.actor === `workstation:${ws.id}`)).toBe(true);
  });
});

describe('admin tokens', () => {
  it('refuse a missing, malformed, unknown or revoked token; a new token works once created and shows once', async () => {
    const codes = [];
    for (const token of [undefined, 'lk_admin_short', `lk_admin_${'A'.repeat(43)}`]) {
      const client = new ApiClient({ baseUrl: t.url, ...(token ? { adminToken: token } : {}) });
      codes.push(await failureCode(client.call('GET', '/v1/admin/settings', undefined, any, CALL)));
    }
    expect(codes).toEqual(['unauthenticated', 'unauthenticated', 'unauthenticated']);
    const created = (await t.admin.call('POST', '/v1/admin/admin-tokens', { name: 'second' }, any, CALL)) as {
      adminTokenId: string;
      token: string;
    };
    const second = new ApiClient({ baseUrl: t.url, adminToken: created.token });
    await second.call('GET', '/v1/admin/settings', undefined, any, CALL);
    const listed = JSON.stringify(await t.admin.call('GET', '/v1/admin/admin-tokens', undefined, any, CALL));
    expect(listed).not.toContain(created.token);
    await t.admin.call('DELETE', `/v1/admin/admin-tokens/${created.adminTokenId}`, undefined, any, CALL);
    expect(await failureCode(second.call('GET', '/v1/admin/settings', undefined, any, CALL))).toBe('unauthenticated');
    // The last active token cannot lock everyone out.
    const tokens = (await t.admin.call('GET', '/v1/admin/admin-tokens', undefined, any, CALL)) as {
      adminTokens: { adminTokenId: string; revokedAt: number | null }[];
    };
    const last = tokens.adminTokens.find((token) => token.revokedAt === null)!;
    expect(
      await failureCode(t.admin.call('DELETE', `/v1/admin/admin-tokens/${last.adminTokenId}`, undefined, any, CALL)),
    ).toBe('conflict');
    expect(
      queryDb(t.databaseFile, 'SELECT sha256 FROM admin_tokens').map((row) => (row as { sha256: string }).sha256),
    ).not.toContain(created.token);
    expect(t.logLines.join('')).not.toMatch(/lk_admin_[A-Za-z0-9_-]{43}/);
  });
});

describe('rate limits', () => {
  it('give each key 600 requests a minute (here 5) and each address 30 failures (here 3)', async () => {
    const limited = await startTestCc({ rateLimits: { perKeyPerMinute: 5, failuresPerMinute: 3 } });
    try {
      const w = await enroll(limited, await installToken(limited), 'busy');
      for (let i = 0; i < 5; i++) await w.client.call('GET', '/v1/workstation/inbox', undefined, any, CALL);
      const busy = await failure(w.client.call('GET', '/v1/workstation/inbox', undefined, any, CALL));
      expect(busy.code).toBe('rate-limited');
      const stranger = new ApiClient({ baseUrl: limited.url, adminToken: `lk_admin_${'B'.repeat(43)}` });
      const codes = [];
      for (let i = 0; i < 4; i++)
        codes.push(await failureCode(stranger.call('GET', '/v1/admin/settings', undefined, any, CALL)));
      expect(codes).toEqual(['unauthenticated', 'unauthenticated', 'unauthenticated', 'rate-limited']);
    } finally {
      await limited.close();
    }
  });
});
