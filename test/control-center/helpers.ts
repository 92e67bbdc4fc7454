/**
 * A real Control Center on loopback with SQLite on disk in a temp dir, and real workstations
 * and phones that talk to it with signed requests through platform/api-client.ts.
 */
import path from 'node:path';
import * as v from 'valibot';
import BetterSqlite3 from 'better-sqlite3';
import { createLogger } from '../../platform/log.js';
import { startControlCenter, type RunningControlCenter } from '../../control-center/control-center.js';
import type { RateLimits } from '../../control-center/http/rate-limit.js';
import { ApiClient, ApiError } from '../../platform/api-client.js';
import { fromBase64url, toBase64url } from '../../protocol/online/base64url.js';
import { transcript } from '../../protocol/online/canonical-json.js';
import { type ConfirmPairingRequestSchema, CreatePairingResponseSchema } from '../../protocol/online/http-bodies.js';
import { EnrollResponseSchema, PairingStatusResponseSchema } from '../../protocol/online/http-bodies.js';
import { AuthStatusResponseSchema, CreateAuthResponseSchema } from '../../protocol/online/http-bodies.js';
import { RedeemPairingResponseSchema } from '../../protocol/online/http-bodies.js';
import { derivePairingKey, deviceMac, newPairingSecret, signDeviceProof } from '../../protocol/online/pairing-keys.js';
import { checkMac, workstationMac } from '../../protocol/online/pairing-keys.js';
import { ED25519, X25519, generateKeyPair, sign, type KeyPair } from '../../protocol/crypto/webcrypto.js';
import { makeTempDir } from '../helpers/agent-harness.js';
import { sha256 } from '../../protocol/crypto/hashes.js';
import { signRequest } from '../../protocol/online/request-signing.js';
import { signApproval, type ApprovalFields } from '../../protocol/online/approvals.js';

export const CALL = { timeoutMs: 10_000 } as const;
const any = v.unknown();

export interface TestClock {
  offsetMs: number;
  now(): number;
}

export function testClock(): TestClock {
  const clock = { offsetMs: 0, now: () => Date.now() + clock.offsetMs };
  return clock;
}

export interface TestCc {
  readonly cc: RunningControlCenter;
  readonly url: string;
  readonly dir: string;
  readonly databaseFile: string;
  readonly clock: TestClock;
  readonly logLines: string[];
  readonly printed: string[];
  readonly adminToken: string;
  readonly admin: ApiClient;
  restart(): Promise<TestCc>;
  close(): Promise<void>;
}

export async function startTestCc(
  options: {
    dir?: string;
    rateLimits?: Partial<RateLimits>;
    clock?: TestClock;
    adminToken?: string;
    trustProxy?: string[];
  } = {},
): Promise<TestCc> {
  const dir = options.dir ?? (await makeTempDir('latchkey-cc-'));
  const databaseFile = path.join(dir, 'cc.db');
  const clock = options.clock ?? testClock();
  const logLines: string[] = [];
  const printed: string[] = [];
  const cc = await startControlCenter({
    databaseFile,
    host: '127.0.0.1',
    port: 0,
    now: clock.now,
    rateLimits: options.rateLimits ?? {},
    ...(options.trustProxy ? { trustProxy: options.trustProxy } : {}),
    log: createLogger({ level: 'debug', write: (line) => logLines.push(line) }),
    printSecretLine: (line) => printed.push(line),
  });
  const adminToken = options.adminToken ?? /lk_admin_[A-Za-z0-9_-]{43}/.exec(printed.join('\n'))?.[0];
  if (!adminToken) throw new Error('the first start printed no admin token');
  const running: TestCc = {
    cc,
    url: cc.url,
    dir,
    databaseFile,
    clock,
    logLines,
    printed,
    adminToken,
    admin: new ApiClient({ baseUrl: cc.url, adminToken, now: clock.now }),
    async restart() {
      await cc.close();
      return startTestCc({ ...options, dir, clock, adminToken });
    },
    close: () => cc.close(),
  };
  return running;
}

/** Reads the database directly (a second connection, as an operator's sqlite3 would). */
export function queryDb<T = Record<string, unknown>>(databaseFile: string, sql: string, ...params: unknown[]): T[] {
  const db = new BetterSqlite3(databaseFile, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

export function countRows(databaseFile: string, table: string): number {
  return queryDb<{ n: number }>(databaseFile, `SELECT count(*) AS n FROM ${table}`)[0]!.n;
}

export async function installToken(t: TestCc, body: Record<string, unknown> = {}): Promise<string> {
  const created = (await t.admin.call(
    'POST',
    '/v1/admin/install-tokens',
    body,
    v.object({ token: v.string() }),
    CALL,
  )) as { token: string };
  return created.token;
}

export interface TestWorkstation {
  readonly id: string;
  readonly key: KeyPair;
  readonly publicKey: string;
  readonly client: ApiClient;
  readonly enrolled: v.InferOutput<typeof EnrollResponseSchema>;
}

export async function enrollProof(token: string, key: KeyPair, name: string): Promise<string> {
  const installTokenSha256 = toBase64url(await sha256(new TextEncoder().encode(token)));
  return toBase64url(
    await sign(
      key.privateKey,
      transcript('latchkey-enroll-v1', { installTokenSha256, publicKey: toBase64url(key.publicKey), name }),
    ),
  );
}

export async function enroll(t: TestCc, token: string, name = 'ws-test', key?: KeyPair): Promise<TestWorkstation> {
  const pair = key ?? (await generateKeyPair(ED25519));
  const publicKey = toBase64url(pair.publicKey);
  const anonymous = new ApiClient({ baseUrl: t.url, now: t.clock.now });
  const enrolled = await anonymous.call(
    'POST',
    '/v1/workstations/enroll',
    { installToken: token, name, publicKey, proof: await enrollProof(token, pair, name) },
    EnrollResponseSchema,
    CALL,
  );
  return {
    id: enrolled.workstationId,
    key: pair,
    publicKey,
    enrolled,
    client: new ApiClient({
      baseUrl: t.url,
      now: t.clock.now,
      signer: { keyId: enrolled.workstationId, privateKey: pair.privateKey },
    }),
  };
}

export interface TestPhone {
  readonly signing: KeyPair;
  readonly box: KeyPair & { pkcs8: Uint8Array };
  readonly signingKey: string;
  readonly boxKey: string;
  readonly name: string;
  deviceId: string;
  client: ApiClient;
}

export async function newPhone(t: TestCc, name = 'phone'): Promise<TestPhone> {
  const signing = await generateKeyPair(ED25519);
  const box = await generateKeyPair(X25519);
  return {
    signing,
    box,
    signingKey: toBase64url(signing.publicKey),
    boxKey: toBase64url(box.publicKey),
    name,
    deviceId: '',
    client: new ApiClient({ baseUrl: t.url, now: t.clock.now }),
  };
}

/** The pairing as the agent opens it: pairing id from the CC, secret drawn here, workstation MAC uploaded. */
export async function openPairing(
  ws: TestWorkstation,
  user: string,
): Promise<{ pairingId: string; secret: string; pairingKey: Uint8Array }> {
  const { pairingId } = await ws.client.call(
    'POST',
    '/v1/workstation/pairings',
    { user },
    CreatePairingResponseSchema,
    CALL,
  );
  const secret = newPairingSecret();
  const pairingKey = await derivePairingKey(pairingId, secret);
  const mac = await workstationMac(pairingKey, {
    pairingId,
    workstationId: ws.id,
    workstationKey: ws.publicKey,
    user,
    ccKey: ws.enrolled.ccKey,
  });
  await ws.client.call('PUT', `/v1/workstation/pairings/${pairingId}`, { workstationMac: toBase64url(mac) }, any, CALL);
  return { pairingId, secret, pairingKey };
}

export async function redeemBody(phone: TestPhone, pairingId: string, pairingKey: Uint8Array, credentialKey?: string) {
  const keys = {
    pairingId,
    signingKey: phone.signingKey,
    boxKey: phone.boxKey,
    name: phone.name,
    ...(credentialKey === undefined ? {} : { credentialKey }),
  };
  return {
    ...keys,
    proof: await signDeviceProof(keys, phone.signing.privateKey),
    deviceMac: toBase64url(await deviceMac(pairingKey, keys)),
  };
}

/** Pairing end to end (docs/online-protocol.md "Pairing"), each side checking the other's MAC. */
/** A phone redeems a pairing with the code's key (docs/online-protocol.md "Pairing", step 2). */
export async function redeem(phone: TestPhone, pairingId: string, pairingKey: Uint8Array) {
  return phone.client.call(
    'POST',
    '/v1/devices/pair',
    await redeemBody(phone, pairingId, pairingKey),
    RedeemPairingResponseSchema,
    CALL,
  );
}

export async function pair(t: TestCc, ws: TestWorkstation, phone: TestPhone, user: string): Promise<void> {
  const { pairingId, pairingKey } = await openPairing(ws, user);
  const redeemed = await phone.client.call(
    'POST',
    '/v1/devices/pair',
    await redeemBody(phone, pairingId, pairingKey),
    RedeemPairingResponseSchema,
    CALL,
  );
  const expectedWsMac = await workstationMac(pairingKey, {
    pairingId,
    workstationId: redeemed.workstationId,
    workstationKey: redeemed.workstationKey,
    user: redeemed.user,
    ccKey: redeemed.ccKey,
  });
  if (toBase64url(expectedWsMac) !== redeemed.workstationMac) throw new Error('workstation MAC does not check');
  await confirmRedeemedPairing(ws, pairingId, pairingKey, 5);
  phone.deviceId = redeemed.deviceId;
  phone.client = new ApiClient({
    baseUrl: t.url,
    now: t.clock.now,
    signer: { keyId: redeemed.deviceId, privateKey: phone.signing.privateKey },
  });
}

/**
 * The workstation's half of a pairing the phone redeems: waits (up to `wait` s) for the redemption,
 * checks the device MAC, and confirms the pairing only when it checks. Returns the phone's device.
 */
export async function confirmRedeemedPairing(ws: Caller, pairingId: string, pairingKey: Uint8Array, wait: number) {
  const status = await ws.client.call(
    'GET',
    `/v1/workstation/pairings/${pairingId}?wait=${wait}`,
    undefined,
    PairingStatusResponseSchema,
    CALL,
  );
  if (status.status !== 'redeemed') throw new Error(`pairing is ${status.status}`);
  const { device } = status;
  const accept = await checkMac(deviceMac(pairingKey, { pairingId, ...device }), fromBase64url(device.deviceMac));
  await ws.client.call(
    'POST',
    `/v1/workstation/pairings/${pairingId}/confirm`,
    { accept } satisfies v.InferInput<typeof ConfirmPairingRequestSchema>,
    any,
    CALL,
  );
  if (!accept) throw new Error('device MAC does not check');
  return device;
}

/** The ApiError a call fails with (or a thrown Error when it does not fail). */
export async function failure(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('the call succeeded but was expected to fail');
}

type Caller = { readonly client: ApiClient };

/** An administrator changes the Workstation Settings (docs/control-center.md "Admin API"). */
export const putSettings = (cc: { readonly admin: ApiClient }, settings: Record<string, unknown>) =>
  cc.admin.call('PUT', '/v1/admin/settings', settings, any, CALL);

/** A workstation asks its user's phone to approve a sign-in (docs/online-protocol.md "Online sign-in"). */
export const askAuth = (ws: Caller, body: unknown) =>
  ws.client.call('POST', '/v1/workstation/auth-requests', body, CreateAuthResponseSchema, CALL);

/** Where a sign-in request stands, as its workstation reads it. */
export const authStatus = (ws: Caller, requestId: string) =>
  ws.client.call('GET', `/v1/workstation/auth-requests/${requestId}`, undefined, AuthStatusResponseSchema, CALL);

/** What a phone sends to decide a sign-in request: the decision, when, and its signature over the fields. */
export async function signedDecision(
  phone: TestPhone,
  request: { requestId: string; workstationId: string; user: string; challenge: string },
  decision: 'approve' | 'deny' = 'approve',
  signedAt = Date.now(),
) {
  const fields: ApprovalFields = { ...request, decision, deviceId: phone.deviceId, signedAt };
  const signature = await signApproval(fields, phone.signing.privateKey);
  return { fields, body: { decision, signedAt, signature } };
}

/** A phone's decision on a sign-in request. */
export const sendDecision = <S extends v.GenericSchema = typeof any>(
  phone: Caller,
  requestId: string,
  body: unknown,
  schema?: S,
) =>
  phone.client.call(
    'POST',
    `/v1/device/auth-requests/${requestId}/decision`,
    body,
    schema ?? (any as unknown as S),
    CALL,
  );

/**
 * Begins a long poll (wait=20; the client gives it 25 s) and lets it reach the server (200 ms),
 * so that what the test does next happens while the poll waits; `answer` is the poll's reply.
 */
export async function longPoll<S extends v.GenericSchema>(caller: Caller, path: string, schema: S) {
  const query = `${path}${path.includes('?') ? '&' : '?'}wait=20`;
  const answer = caller.client.call('GET', query, undefined, schema, { timeoutMs: 25_000 });
  await new Promise((resolve) => setTimeout(resolve, 200));
  return { answer };
}

/** The code of the ApiError a call fails with (fails the test when the call succeeds). */
export async function failureCode(promise: Promise<unknown>): Promise<string> {
  return (await failure(promise)).code;
}

/** The signature headers of a workstation's request (an empty body unless given), to send it raw or twice. */
export const signedHeaders = (
  t: { readonly clock: TestClock },
  ws: TestWorkstation,
  method: string,
  path: string,
  body: Uint8Array = new Uint8Array(),
) => signRequest({ method, path, body }, ws.id, ws.key.privateKey, t.clock.now());

/** A raw HTTP request, for bodies the ApiClient would never send. */
export async function rawRequest(
  url: string,
  method: string,
  pathAndQuery: string,
  init: { headers?: Record<string, string>; body?: string | Uint8Array } = {},
) {
  const response = await fetch(new URL(pathAndQuery, url), {
    method,
    headers: init.headers ?? {},
    ...(init.body === undefined ? {} : { body: init.body }),
  });
  const text = await response.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return {
    status: response.status,
    headers: response.headers,
    text,
    json: json as { error?: { code: string; message: string } } | null,
  };
}

export { ApiClient, fromBase64url, toBase64url, any };
