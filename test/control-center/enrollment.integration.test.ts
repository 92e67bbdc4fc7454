// Enrollment with install tokens and the signed policy (docs/online-protocol.md "Workstation
// enrollment", "Policy", "Policy updates"; docs/control-center.md "Workstation Settings").
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignedPolicySchema } from '../../protocol/online/http-bodies.js';
import { checkSignedPolicy } from '../../protocol/online/signed-policy.js';
import { ED25519, generateKeyPair } from '../../protocol/crypto/webcrypto.js';
import { ApiClient, CALL, any, countRows, enroll, enrollProof, failure, fromBase64url } from './helpers.js';
import { longPoll } from './helpers.js';
import { putSettings } from './helpers.js';
import { failureCode } from './helpers.js';
import { installToken, queryDb, rawRequest, startTestCc, toBase64url, type TestCc } from './helpers.js';

let t: TestCc;
beforeAll(async () => {
  t = await startTestCc({ rateLimits: { enrollPerMinute: 1000 } });
});
afterAll(() => t.close());

const HOUR = 3_600_000;

describe('enrollment with an install token', () => {
  it('enrolls, answers a policy signed by the key it hands out, and counts one use', async () => {
    const token = await installToken(t, { note: 'first' });
    const ws = await enroll(t, token, 'alpha');
    expect(ws.id).toMatch(/^ws_/);
    const check = await checkSignedPolicy(
      { policy: ws.enrolled.policy, signature: ws.enrolled.signature },
      fromBase64url(ws.enrolled.ccKey),
      ws.id,
      0,
    );
    expect(check.ok).toBe(true);
    expect(ws.enrolled.policy.settings.offlineMode).toBe(false); // R1: off by default
    expect(ws.enrolled.ccKey).toBe(t.cc.keys.ccKey);
    const listed = (await t.admin.call('GET', '/v1/admin/install-tokens', undefined, any, CALL)) as {
      installTokens: { uses: number; note: string }[];
    };
    expect(listed.installTokens.find((it) => it.note === 'first')?.uses).toBe(1);
  });

  it('answers the same workstation to the same key again without counting a use', async () => {
    const token = await installToken(t, { maxUses: 1, note: 'once' });
    const key = await generateKeyPair(ED25519);
    const first = await enroll(t, token, 'beta', key);
    const again = await enroll(t, token, 'beta', key);
    expect(again.id).toBe(first.id);
    expect(
      queryDb<{ uses: number }>(t.databaseFile, "SELECT uses FROM install_tokens WHERE note = 'once'")[0]!.uses,
    ).toBe(1);
  });

  it('refuses a wrong, revoked, expired or used-up token, and stores no workstation', async () => {
    const before = countRows(t.databaseFile, 'workstations');
    const wrong = `lk_install_${toBase64url(new Uint8Array(32))}`;
    expect(await failureCode(enroll(t, wrong))).toBe('unauthenticated');

    const revoked = await installToken(t);
    const list = (await t.admin.call('GET', '/v1/admin/install-tokens', undefined, any, CALL)) as {
      installTokens: { installTokenId: string; uses: number }[];
    };
    await t.admin.call(
      'DELETE',
      `/v1/admin/install-tokens/${list.installTokens[0]!.installTokenId}`,
      undefined,
      any,
      CALL,
    );
    expect(await failureCode(enroll(t, revoked))).toBe('unauthenticated');

    const expiring = await installToken(t, { expiresInHours: 1 });
    t.clock.offsetMs += 2 * HOUR;
    try {
      const expired = await failure(enroll(t, expiring));
      expect(expired.code).toBe('gone');
      expect(expired.status).toBe(410);
    } finally {
      t.clock.offsetMs -= 2 * HOUR;
    }

    const single = await installToken(t, { maxUses: 1 });
    await enroll(t, single, 'gamma');
    const usedUp = await failure(enroll(t, single, 'delta'));
    expect(usedUp.code).toBe('forbidden');
    expect(usedUp.message).toMatch(/used as many times/);
    expect(countRows(t.databaseFile, 'workstations')).toBe(before + 1);
    const refusals = queryDb<{ n: number }>(
      t.databaseFile,
      "SELECT count(*) AS n FROM audit WHERE action = 'workstation.enroll' AND result = 'refused'",
    )[0]!.n;
    expect(refusals).toBeGreaterThanOrEqual(4);
  });

  it('refuses a proof made by another key', async () => {
    const token = await installToken(t);
    const key = await generateKeyPair(ED25519);
    const other = await generateKeyPair(ED25519);
    const anonymous = new ApiClient({ baseUrl: t.url });
    const error = await failure(
      anonymous.call(
        'POST',
        '/v1/workstations/enroll',
        {
          installToken: token,
          name: 'x',
          publicKey: toBase64url(key.publicKey),
          proof: await enrollProof(token, other, 'x'),
        },
        any,
        CALL,
      ),
    );
    expect(error.code).toBe('unauthenticated');
    expect(error.message).toMatch(/proof/);
  });
});

describe('the signed policy', () => {
  it('grows in version with every settings change, wakes a waiting agent, and is the same document for the same version', async () => {
    const ws = await enroll(t, await installToken(t), 'policy-ws');
    const first = await ws.client.call('GET', '/v1/workstation/policy', undefined, SignedPolicySchema, CALL);
    const again = await ws.client.call('GET', '/v1/workstation/policy', undefined, SignedPolicySchema, CALL);
    expect(again).toEqual(first);

    const started = Date.now();
    const { answer: waiting } = await longPoll(
      ws,
      `/v1/workstation/policy?since=${first.policy.version}`,
      SignedPolicySchema,
    );
    await putSettings(t, { offlineMode: true, pinCount: 30 });
    const changed = await waiting;
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(changed.policy.version).toBe(first.policy.version + 1);
    expect(changed.policy.settings).toMatchObject({ offlineMode: true, pinCount: 30 });
    const check = await checkSignedPolicy(changed, fromBase64url(ws.enrolled.ccKey), ws.id, first.policy.version);
    expect(check.ok).toBe(true);
    // An older document is refused by the agent's check once the newer one is cached.
    expect((await checkSignedPolicy(first, fromBase64url(ws.enrolled.ccKey), ws.id, changed.policy.version)).ok).toBe(
      false,
    );
  });

  it('resolves defaults ← tenant ← group, and moving a workstation is a new version', async () => {
    const ws = await enroll(t, await installToken(t), 'grouped');
    const group = (await t.admin.call('POST', '/v1/admin/groups', { name: 'lab' }, any, CALL)) as { groupId: string };
    await t.admin.call('PUT', `/v1/admin/groups/${group.groupId}/settings`, { pinCount: 50, pinLength: 10 }, any, CALL);
    const before = await ws.client.call('GET', '/v1/workstation/policy', undefined, SignedPolicySchema, CALL);
    expect(before.policy.settings.pinCount).toBe(30); // the tenant's, from the test above
    await t.admin.call('PUT', `/v1/admin/workstations/${ws.id}/group`, { groupId: group.groupId }, any, CALL);
    const after = await ws.client.call('GET', '/v1/workstation/policy', undefined, SignedPolicySchema, CALL);
    expect(after.policy.version).toBeGreaterThan(before.policy.version);
    expect(after.policy.settings).toMatchObject({ offlineMode: true, pinCount: 50, pinLength: 10 });
  });

  it('refuses settings out of range or that would make a group invalid, naming the field or group', async () => {
    const revision = queryDb<{ value: string }>(t.databaseFile, "SELECT value FROM meta WHERE key = 'revision'")[0]!
      .value;
    const range = await failure(putSettings(t, { pinCount: 5 }));
    expect(range.code).toBe('bad-request');
    expect(range.message).toMatch(/pinCount.*10 to 100/);
    const unknown = await failure(putSettings(t, { pinColour: 'red' }));
    expect(unknown.message).toMatch(/pinColour is not a known field/);
    const invalid = await failure(putSettings(t, { pinCharset: 'numeric' }));
    expect(invalid.message).toMatch(/group lab invalid/);
    expect(queryDb<{ value: string }>(t.databaseFile, "SELECT value FROM meta WHERE key = 'revision'")[0]!.value).toBe(
      revision,
    );
  });
});

describe('enrollment rate limit', () => {
  it('answers 429 with Retry-After past 10 enrollments a minute from one address', async () => {
    const limited = await startTestCc();
    try {
      const body = {
        installToken: `lk_install_${'A'.repeat(43)}`,
        name: 'x',
        publicKey: 'A'.repeat(43),
        proof: 'A'.repeat(86),
      };
      const statuses: number[] = [];
      for (let i = 0; i < 11; i++) {
        const response = await rawRequest(limited.url, 'POST', '/v1/workstations/enroll', {
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        statuses.push(response.status);
        if (response.status === 429) {
          expect(response.json?.error?.code).toBe('rate-limited');
          expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
        }
      }
      expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
      expect(statuses[10]).toBe(429);
    } finally {
      await limited.close();
    }
  });
});
