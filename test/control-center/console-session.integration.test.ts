// The web console's sign-in over HTTP (docs/console.md "Sign-in, sessions and CSRF"): an admin
// token becomes an HttpOnly SameSite=Strict cookie; reads need the cookie, changes the CSRF token
// too; idle and lifetime expiry, sign-out and a revoked token end it; bearer tokens work as before.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSettings } from '../../control-center/admin-api.js';
import { AdminClient } from '../../control-center/admin-client.js';
import { startControlCenter } from '../../control-center/control-center.js';
import { CONSOLE_IDLE_MS, CONSOLE_LIFETIME_MS } from '../../control-center/http/console-session.js';
import { MAX_SESSIONS_PER_TOKEN } from '../../control-center/http/console-session.js';
import { createLogger } from '../../platform/log.js';
import { makeTempDir } from '../helpers/agent-harness.js';
import { CALL, any, failure, queryDb, rawRequest, startTestCc, type TestCc, putSettings } from './helpers.js';

let t: TestCc;
beforeAll(async () => {
  t = await startTestCc({ rateLimits: { failuresPerMinute: 1000 } });
});
afterAll(() => t.close());

const json = { 'content-type': 'application/json' };

/** Signs in as the console does; answers the cookie header to send back and the CSRF token. */
async function signIn(token = t.adminToken) {
  const answer = await rawRequest(t.url, 'POST', '/v1/console/session', {
    headers: json,
    body: JSON.stringify({ adminToken: token }),
  });
  expect(answer.status, answer.text).toBe(201);
  const setCookie = answer.headers.get('set-cookie')!;
  const body = answer.json as unknown as { csrfToken: string; adminTokenId: string };
  return { setCookie, cookie: setCookie.split(';')[0]!, csrf: body.csrfToken, body };
}

const revision = () =>
  Number(queryDb<{ value: string }>(t.databaseFile, "SELECT value FROM meta WHERE key = 'revision'")[0]!.value);
const lastAudit = (action: string) =>
  queryDb<{ actor: string; result: string; target: string | null; detail: string | null }>(
    t.databaseFile,
    'SELECT * FROM audit WHERE action = ? ORDER BY id DESC LIMIT 1',
    action,
  )[0];

describe('the console page', () => {
  it('is served at / with a strict Content-Security-Policy, and its assets under /assets/', async () => {
    const page = await rawRequest(t.url, 'GET', '/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(page.text)?.[1];
    expect(script).toBeDefined();
    expect(page.text).not.toMatch(/<script>(?!<\/script>)/); // no inline script
    const asset = await rawRequest(t.url, 'GET', script!);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await rawRequest(t.url, 'GET', '/assets/..%2f..%2fpackage.json')).status).toBe(404);
    expect((await rawRequest(t.url, 'GET', '/assets/nothing.js')).json?.error?.code).toBe('not-found');
  });
});

describe('sign-in', () => {
  it('exchanges an admin token for an HttpOnly, SameSite=Strict cookie (not Secure over plain HTTP) and audits it', async () => {
    const { setCookie, body } = await signIn();
    expect(setCookie).toMatch(/^latchkey_console=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict$/);
    expect(body).toMatchObject({
      adminTokenName: 'first',
      idleSeconds: CONSOLE_IDLE_MS / 1000,
      csrfToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    expect(lastAudit('console.sign-in')).toMatchObject({
      actor: `admin:${body.adminTokenId}`,
      result: 'ok',
      target: expect.stringMatching(/^cs_/),
    });
  });

  it('refuses a wrong token like a wrong bearer token: 401, audited, counted against the address', async () => {
    const wrong = await rawRequest(t.url, 'POST', '/v1/console/session', {
      headers: json,
      body: JSON.stringify({ adminToken: `lk_admin_${'A'.repeat(43)}` }),
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    expect(wrong.json?.error?.message).toMatch(/not valid/);
    expect(lastAudit('admin.auth')).toMatchObject({ actor: 'anonymous', result: 'refused' });
  });

  it('lets the page resume: GET /v1/console/session answers the CSRF token again; without a cookie it is a quiet 401', async () => {
    const { cookie, csrf } = await signIn();
    const again = await rawRequest(t.url, 'GET', '/v1/console/session', { headers: { cookie } });
    expect(again.status).toBe(200);
    expect((again.json as unknown as { csrfToken: string }).csrfToken).toBe(csrf);
    const before = queryDb(t.databaseFile, "SELECT id FROM audit WHERE action = 'admin.auth'").length;
    const none = await rawRequest(t.url, 'GET', '/v1/console/session');
    expect(none.status).toBe(401);
    expect(queryDb(t.databaseFile, "SELECT id FROM audit WHERE action = 'admin.auth'").length).toBe(before);
  });
});

describe('CSRF', () => {
  it("lets the cookie read, and lets it change only with this session's token from this origin; every change is attributed", async () => {
    const { cookie, csrf, body } = await signIn();
    expect((await rawRequest(t.url, 'GET', '/v1/admin/settings', { headers: { cookie } })).status).toBe(200);
    const start = revision();
    const change = JSON.stringify({ pinCount: 30 });
    const without = await rawRequest(t.url, 'PUT', '/v1/admin/settings', {
      headers: { ...json, cookie },
      body: change,
    });
    expect(without.status).toBe(403);
    expect(without.json?.error).toEqual({
      code: 'forbidden',
      message: "This change did not carry the console's CSRF token; reload the console and try again.",
    });
    const other = await signIn();
    expect(
      (
        await rawRequest(t.url, 'PUT', '/v1/admin/settings', {
          headers: { ...json, cookie, 'latchkey-csrf': other.csrf },
          body: change,
        })
      ).status,
    ).toBe(403);
    const elsewhere = await rawRequest(t.url, 'PUT', '/v1/admin/settings', {
      headers: { ...json, cookie, 'latchkey-csrf': csrf, origin: 'https://evil.example' },
      body: change,
    });
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.json?.error?.message).toMatch(/another site/);
    expect(revision()).toBe(start); // nothing saved
    expect(lastAudit('console.csrf')).toMatchObject({ result: 'refused' });

    const ok = await rawRequest(t.url, 'PUT', '/v1/admin/settings', {
      headers: { ...json, cookie, 'latchkey-csrf': csrf, origin: t.url },
      body: change,
    });
    expect(ok.status, ok.text).toBe(200);
    expect(revision()).toBe(start + 1);
    expect(lastAudit('settings.set')!.actor).toMatch(
      new RegExp(`^admin:${body.adminTokenId}/cs_[0-9A-HJKMNP-TV-Z]{26}$`),
    );
  });

  it('refuses a change with no cookie and no token at all', async () => {
    const none = await rawRequest(t.url, 'PUT', '/v1/admin/settings', {
      headers: json,
      body: JSON.stringify({ pinCount: 40 }),
    });
    expect(none.status).toBe(401);
  });

  it('leaves bearer tokens as they were: a request with Authorization is judged by it, cookie or not', async () => {
    expect((await new AdminClient(t.admin, CALL.timeoutMs).settings()).revision).toBeGreaterThan(0);
    const bearer = await rawRequest(t.url, 'PUT', '/v1/admin/settings', {
      headers: { ...json, authorization: `Bearer ${t.adminToken}`, cookie: 'latchkey_console=x' },
      body: JSON.stringify({ pinCount: 30 }),
    });
    expect(bearer.status).toBe(200);
    expect(lastAudit('settings.set')!.actor).toMatch(/^admin:at_[0-9A-HJKMNP-TV-Z]{26}$/);
  });

  it('refuses settings with the sentence `latchkey admin` shows, the same one checkSettings gives the console', async () => {
    for (const pinCount of [5, 200]) {
      const error = await failure(putSettings(t, { pinCount }));
      expect(error.message).toBe('pinCount must be an integer from 10 to 100.');
      expect(checkSettings({ pinCount })).toEqual({ ok: false, message: error.message });
    }
    expect((await failure(putSettings(t, { pinDisplaySeconds: 5 }))).message).toBe(
      'pinDisplaySeconds must be an integer from 10 to 300.',
    );
  });
});

describe('ending a session', () => {
  it('expires after 15 idle minutes: 401, the cookie cleared, audited', async () => {
    const { cookie } = await signIn();
    t.clock.offsetMs += CONSOLE_IDLE_MS - 1000;
    expect((await rawRequest(t.url, 'GET', '/v1/admin/settings', { headers: { cookie } })).status).toBe(200); // activity restarts the idle clock
    t.clock.offsetMs += CONSOLE_IDLE_MS;
    const expired = await rawRequest(t.url, 'GET', '/v1/admin/settings', { headers: { cookie } });
    expect(expired.status).toBe(401);
    expect(expired.json?.error?.message).toBe('Your console session expired; sign in again.');
    expect(expired.headers.get('set-cookie')).toMatch(/^latchkey_console=; .*Max-Age=0/);
    expect(lastAudit('console.expired')).toMatchObject({
      result: 'expired',
      detail: JSON.stringify({ reason: 'idle' }),
    });
    expect((await rawRequest(t.url, 'GET', '/v1/admin/settings', { headers: { cookie } })).json?.error?.message).toBe(
      'Your console session has ended; sign in again.',
    );
  });

  it('ends after 12 hours however busy', async () => {
    const { cookie } = await signIn();
    for (let step = 1; step < CONSOLE_LIFETIME_MS / (CONSOLE_IDLE_MS / 2); step++) {
      t.clock.offsetMs += CONSOLE_IDLE_MS / 2;
      expect((await rawRequest(t.url, 'GET', '/v1/console/session', { headers: { cookie } })).status).toBe(200);
    }
    t.clock.offsetMs += CONSOLE_IDLE_MS / 2;
    expect((await rawRequest(t.url, 'GET', '/v1/console/session', { headers: { cookie } })).status).toBe(401);
    expect(lastAudit('console.expired')!.detail).toBe(JSON.stringify({ reason: 'lifetime' }));
  });

  it('signs out (with the CSRF token), after which the cookie is worthless', async () => {
    const { cookie, csrf } = await signIn();
    expect((await rawRequest(t.url, 'DELETE', '/v1/console/session', { headers: { cookie } })).status).toBe(403);
    const out = await rawRequest(t.url, 'DELETE', '/v1/console/session', {
      headers: { cookie, 'latchkey-csrf': csrf },
    });
    expect(out.status).toBe(200);
    expect(out.headers.get('set-cookie')).toMatch(/Max-Age=0/);
    expect(lastAudit('console.sign-out')).toMatchObject({ result: 'ok' });
    expect((await rawRequest(t.url, 'GET', '/v1/admin/settings', { headers: { cookie } })).status).toBe(401);
  });

  it('ends every session of a revoked admin token, and keeps at most 10 per token', async () => {
    const created = (await t.admin.call('POST', '/v1/admin/admin-tokens', { name: 'helpdesk' }, any, CALL)) as {
      token: string;
      adminTokenId: string;
    };
    const sessions = [];
    for (let i = 0; i <= MAX_SESSIONS_PER_TOKEN; i++) sessions.push(await signIn(created.token));
    expect(
      (await rawRequest(t.url, 'GET', '/v1/console/session', { headers: { cookie: sessions[0]!.cookie } })).status,
    ).toBe(401); // the oldest made room
    expect(
      (await rawRequest(t.url, 'GET', '/v1/console/session', { headers: { cookie: sessions[1]!.cookie } })).status,
    ).toBe(200);
    await t.admin.call('DELETE', `/v1/admin/admin-tokens/${created.adminTokenId}`, undefined, any, CALL);
    const revoked = await rawRequest(t.url, 'GET', '/v1/console/session', { headers: { cookie: sessions[1]!.cookie } });
    expect(revoked.status).toBe(401);
    expect(revoked.json?.error?.message).toMatch(/revoked/);
  });
});

describe('over HTTPS (here: a trusted proxy that says so)', () => {
  it('names the cookie __Host-latchkey_console and marks it Secure', async () => {
    const dir = await makeTempDir('latchkey-cc-console-');
    const printed: string[] = [];
    const cc = await startControlCenter({
      databaseFile: path.join(dir, 'cc.db'),
      host: '127.0.0.1',
      port: 0,
      trustProxy: ['127.0.0.1'],
      log: createLogger({ level: 'error', write: () => undefined }),
      printSecretLine: (line) => printed.push(line),
    });
    try {
      const token = /lk_admin_[A-Za-z0-9_-]{43}/.exec(printed.join(''))![0];
      const https = { 'x-forwarded-proto': 'https', 'x-forwarded-for': '192.0.2.7' };
      const answer = await rawRequest(cc.url, 'POST', '/v1/console/session', {
        headers: { ...json, ...https },
        body: JSON.stringify({ adminToken: token }),
      });
      const setCookie = answer.headers.get('set-cookie')!;
      expect(setCookie).toMatch(
        /^__Host-latchkey_console=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Secure$/,
      );
      const cookie = setCookie.split(';')[0]!;
      expect((await rawRequest(cc.url, 'GET', '/v1/console/session', { headers: { ...https, cookie } })).status).toBe(
        200,
      );
      // The plain-HTTP name is not read over HTTPS, nor the HTTPS one over plain HTTP.
      expect((await rawRequest(cc.url, 'GET', '/v1/console/session', { headers: { cookie } })).status).toBe(401);
    } finally {
      await cc.close();
    }
  });
});
