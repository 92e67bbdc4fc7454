/**
 * docs/security.md "Locking everyone out with bad credentials": issue 9 item 4, run for real
 * against a Control Center on loopback. A budget for failed authentications counts per source
 * address and per presented credential, but never refuses a caller who proves who they are.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../platform/api-client.js';
import { CALL, any, enroll, failureCode, installToken, newPhone, pair, rawRequest } from '../control-center/helpers.js';
import { startTestCc, type TestCc } from '../control-center/helpers.js';
import type { TestPhone } from '../control-center/helpers.js';

let cc: TestCc;
let phone: TestPhone;

beforeAll(async () => {
  // Default budgets (30 failures a minute), and X-Forwarded-For believed from loopback so one
  // test can speak from many addresses, as clients behind a reverse proxy do.
  cc = await startTestCc({ trustProxy: ['127.0.0.1'] });
  const ws = await enroll(cc, await installToken(cc), 'ws-failures');
  phone = await newPhone(cc, 'pixel');
  await pair(cc, ws, phone, 'alice');
});
afterAll(() => cc?.close());

const BAD_TOKEN = `lk_admin_${'B'.repeat(43)}`;

describe('the failure budget', () => {
  it("the review's attack: 35 bad admin tokens from one address, then a valid token and a signed phone request from it still pass", async () => {
    const stranger = new ApiClient({ baseUrl: cc.url, adminToken: BAD_TOKEN });
    const codes: string[] = [];
    for (let i = 0; i < 35; i++)
      codes.push(await failureCode(stranger.call('GET', '/v1/admin/settings', undefined, any, CALL)));
    expect(codes.slice(0, 30).every((code) => code === 'unauthenticated')).toBe(true);
    expect(codes.slice(30)).toEqual(Array(5).fill('rate-limited'));
    // The same address (127.0.0.1): whoever proves who they are is served.
    await expect(cc.admin.call('GET', '/v1/admin/settings', undefined, any, CALL)).resolves.toBeTruthy();
    await expect(phone.client.call('GET', '/v1/device/workstations', undefined, any, CALL)).resolves.toBeTruthy();
    // Past the budget, refusals are no longer written to the audit one by one.
    const audit = (await cc.admin.call('GET', '/v1/admin/audit?limit=1000', undefined, any, CALL)) as {
      entries: Array<{ action: string; result: string }>;
    };
    expect(audit.entries.filter((entry) => entry.action === 'admin.auth' && entry.result === 'refused')).toHaveLength(
      30,
    );
    expect(cc.logLines.join('')).toMatch(/auth.failure-budget address=127.0.0.1/);
  });

  it("counts per credential too: bad signatures naming a phone's key from 31 addresses hit its budget, and the phone itself still passes", async () => {
    const wrongKey = (await newPhone(cc)).signing.privateKey;
    const codes: string[] = [];
    for (let i = 0; i < 31; i++) {
      const impostor = new ApiClient({
        baseUrl: cc.url,
        signer: { keyId: phone.deviceId, privateKey: wrongKey },
        headers: () => ({ 'x-forwarded-for': `198.51.100.${i + 1}` }),
      });
      codes.push(await failureCode(impostor.call('GET', '/v1/device/workstations', undefined, any, CALL)));
    }
    expect(codes.slice(0, 30).every((code) => code === 'unauthenticated')).toBe(true);
    expect(codes[30]).toBe('rate-limited');
    await expect(phone.client.call('GET', '/v1/device/workstations', undefined, any, CALL)).resolves.toBeTruthy();
  });

  it('an address past its budget is refused 429 for what fails there, with Retry-After, and a fresh address is not', async () => {
    const stranger = { authorization: `Bearer ${BAD_TOKEN}` };
    for (let i = 0; i < 30; i++)
      await rawRequest(cc.url, 'GET', '/v1/admin/settings', {
        headers: { ...stranger, 'x-forwarded-for': '203.0.113.7' },
      });
    const limited = await rawRequest(cc.url, 'GET', '/v1/admin/settings', {
      headers: { ...stranger, 'x-forwarded-for': '203.0.113.7' },
    });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    const fresh = await rawRequest(cc.url, 'GET', '/v1/admin/settings', {
      headers: { authorization: `Bearer lk_admin_${'C'.repeat(43)}`, 'x-forwarded-for': '203.0.113.8' },
    });
    expect(fresh.status).toBe(401);
    const valid = await rawRequest(cc.url, 'GET', '/v1/admin/settings', {
      headers: { authorization: `Bearer ${cc.adminToken}`, 'x-forwarded-for': '203.0.113.7' },
    });
    expect(valid.status).toBe(200);
  });
});
