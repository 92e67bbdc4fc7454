// The HTTP boundary (docs/control-center.md "Errors"): bad JSON, unknown fields, wrong types,
// oversized bodies and bad query strings are 4xx with a sentence naming the field, never the
// value sent, and nothing is stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows, enroll, installToken, rawRequest, signedHeaders, startTestCc, type TestCc } from './helpers.js';
import type { TestWorkstation } from './helpers.js';

let t: TestCc;
let ws: TestWorkstation;
const DOMAIN_TABLES = [
  'workstations',
  'pairings',
  'auth_requests',
  'intents',
  'pool_deliveries',
  'events',
  'recovery_pins',
  'devices',
  'groups',
  'install_tokens',
];
let before: Record<string, number>;
beforeAll(async () => {
  t = await startTestCc({ rateLimits: { enrollPerMinute: 1000, redeemPerMinute: 1000 } });
  ws = await enroll(t, await installToken(t), 'boundary-ws');
  before = Object.fromEntries(DOMAIN_TABLES.map((table) => [table, countRows(t.databaseFile, table)]));
});
afterAll(async () => {
  // Nothing any of these requests sent was stored.
  expect(Object.fromEntries(DOMAIN_TABLES.map((table) => [table, countRows(t.databaseFile, table)]))).toEqual(before);
  await t.close();
});

/** A signed workstation request with an arbitrary body and content type. */
async function signed(method: string, path: string, body: string | Uint8Array, contentType = 'application/json') {
  const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
  const headers = await signedHeaders(t, ws, method, path, bytes);
  return rawRequest(t.url, method, path, { headers: { ...headers, 'content-type': contentType }, body: bytes });
}

const json = { 'content-type': 'application/json' };

describe('request bodies', () => {
  it('refuse what is not JSON, not an object, or not sent as JSON', async () => {
    for (const [body, message] of [
      ['{"user": ', /not valid JSON/],
      ['["alice"]', /JSON object/],
      ['"alice"', /JSON object/],
      ['', /no body/],
    ] as const) {
      const response = await signed('POST', '/v1/workstation/pairings', body);
      expect(response.status).toBe(400);
      expect(response.json?.error).toEqual({ code: 'bad-request', message: expect.stringMatching(message) });
    }
    const text = await signed('POST', '/v1/workstation/pairings', '{"user":"alice"}', 'text/plain');
    expect(text.json?.error?.message).toMatch(/application\/json/);
    const latin1 = await signed(
      'POST',
      '/v1/workstation/pairings',
      new Uint8Array([0x7b, 0x22, 0x75, 0x22, 0x3a, 0x22, 0xe9, 0x22, 0x7d]),
    );
    expect(latin1.json?.error?.message).toMatch(/not valid JSON/);
  });

  it('name an unknown field, a missing one and a wrong type, without echoing the values', async () => {
    const unknown = await signed('POST', '/v1/workstation/pairings', JSON.stringify({ user: 'alice', admin: true }));
    expect(unknown.json?.error).toEqual({ code: 'bad-request', message: 'admin is not a known field.' });
    const missing = await signed(
      'POST',
      '/v1/workstation/auth-requests',
      JSON.stringify({ user: 'alice', ttlMs: 5000 }),
    );
    expect(missing.json?.error?.message).toMatch(/challenge is missing/);
    const wrongType = await signed(
      'POST',
      '/v1/workstation/auth-requests',
      JSON.stringify({ user: 'alice', challenge: 'A'.repeat(43), ttlMs: '5000' }),
    );
    expect(wrongType.json?.error?.message).toMatch(/ttlMs must be number/);
    const range = await signed(
      'POST',
      '/v1/workstation/auth-requests',
      JSON.stringify({ user: 'alice', challenge: 'A'.repeat(43), ttlMs: 600_000 }),
    );
    expect(range.json?.error?.message).toMatch(/ttlMs/);
    const nested = await signed(
      'POST',
      '/v1/workstation/events',
      JSON.stringify({
        events: [
          { id: 'ev_x', time: 1, type: 'verify', user: 'a', result: 'ok', reason: null, context: null, extra: 1 },
        ],
      }),
    );
    expect(nested.json?.error?.message).toMatch(
      /events\[0\]\.id must be a ev_ id.*events\[0\]\.extra is not a known field/,
    );

    const secret = 'SUPERSECRETVALUE';
    const token = await rawRequest(t.url, 'POST', '/v1/workstations/enroll', {
      headers: json,
      body: JSON.stringify({ installToken: `lk_install_${secret}`, name: secret, publicKey: secret, proof: secret }),
    });
    expect(token.status).toBe(400);
    expect(token.json?.error?.message).toMatch(/installToken must be an install token/);
    expect(token.text).not.toContain(secret);
    const picklist = await signed(
      'POST',
      '/v1/workstation/events',
      JSON.stringify({
        events: [{ id: 'ev_x', time: 1, type: secret, user: 'a', result: 'ok', reason: null, context: null }],
      }),
    );
    expect(picklist.text).not.toContain(secret);
  });

  it('refuse a body over 64 KiB with body-too-large', async () => {
    const big = JSON.stringify({ user: 'a'.repeat(70 * 1024) });
    const response = await rawRequest(t.url, 'POST', '/v1/workstations/enroll', { headers: json, body: big });
    expect(response.status).toBe(413);
    expect(response.json?.error).toEqual({ code: 'body-too-large', message: 'The body is larger than 64 KiB.' });
    const signedBig = await signed('POST', '/v1/workstation/pairings', big);
    expect(signedBig.status).toBe(413);
  });
});

describe('query strings, paths and methods', () => {
  it('refuse a wait above 30 s, a wait that is not a number, a repeated or unknown parameter', async () => {
    for (const [query, message] of [
      ['wait=31', /wait/],
      ['wait=soon', /wait/],
      ['wait=1&wait=2', /wait/],
      ['colour=red', /colour is not a known field/],
    ] as const) {
      const path = `/v1/workstation/inbox?${query}`;
      const headers = await signedHeaders(t, ws, 'GET', path);
      const response = await rawRequest(t.url, 'GET', path, { headers });
      expect(response.status).toBe(400);
      expect(response.json?.error?.message).toMatch(message);
    }
  });

  it('answer unknown routes and methods with the error body, and malformed ids with the parameter named', async () => {
    const missing = await rawRequest(t.url, 'GET', '/v1/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.json?.error?.code).toBe('not-found');
    expect((await rawRequest(t.url, 'PATCH', '/v1/workstations/enroll')).status).toBe(404);
    const path = '/v1/workstation/auth-requests/not-an-id';
    const headers = await signedHeaders(t, ws, 'GET', path);
    const malformed = await rawRequest(t.url, 'GET', path, { headers });
    expect(malformed.status).toBe(400);
    expect(malformed.json?.error?.message).toMatch(/requestId/);
  });
});
