// A Control Center restarted on the same database keeps everything, including its keys and
// the replay memory; a key file that is loose, missing or foreign stops it before it listens;
// the first admin token is printed once and never logged (docs/control-center.md).
import { promises as fs } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { startControlCenter } from '../../control-center/control-center.js';
import { StartupError } from '../../control-center/errors.js';
import { DeviceInboxResponseSchema, SignedPolicySchema } from '../../protocol/online/http-bodies.js';
import { checkSignedPolicy } from '../../protocol/online/signed-policy.js';
import { makeTempDir } from '../helpers/agent-harness.js';
import { ApiClient, CALL, any, enroll, fromBase64url, installToken, newPhone, pair, rawRequest } from './helpers.js';
import { putSettings, signedHeaders } from './helpers.js';
import { startTestCc, toBase64url, type TestCc } from './helpers.js';
import { askAuth, authStatus, sendDecision, signedDecision } from './helpers.js';
import { randomBytes } from '../../protocol/crypto/hashes.js';

const running: TestCc[] = [];
afterAll(async () => {
  for (const cc of running) await cc.close();
});

async function startFailure(databaseFile: string): Promise<StartupError> {
  try {
    const cc = await startControlCenter({
      databaseFile,
      host: '127.0.0.1',
      port: 0,
      log: { debug() {}, info() {}, warn() {}, error() {} },
      printSecretLine: () => {},
    });
    await cc.close();
  } catch (error) {
    if (error instanceof StartupError) return error;
    throw error;
  }
  throw new Error('the Control Center started');
}

describe('restart on the same database', () => {
  it('keeps workstations, phones, settings, pending requests, keys, admin tokens and the nonce memory', async () => {
    const first = await startTestCc();
    expect(first.printed).toHaveLength(1);
    expect(first.printed[0]).toMatch(
      /^Latchkey Control Center: first admin token \(shown once, store it now\): lk_admin_[A-Za-z0-9_-]{43}$/,
    );
    const ws = await enroll(first, await installToken(first), 'survivor');
    const phone = await newPhone(first);
    await pair(first, ws, phone, 'alice');
    await putSettings(first, { offlineMode: true });
    const policy = await ws.client.call('GET', '/v1/workstation/policy', undefined, SignedPolicySchema, CALL);
    const challenge = toBase64url(randomBytes(32));
    const { requestId } = await askAuth(ws, { user: 'alice', challenge, ttlMs: 120_000 });
    const beforeRestart = await signedHeaders(first, ws, 'GET', '/v1/workstation/inbox');
    expect((await rawRequest(first.url, 'GET', '/v1/workstation/inbox', { headers: beforeRestart })).status).toBe(200);
    const ccKey = first.cc.keys.ccKey;

    const second = await first.restart();
    running.push(second);
    expect(second.printed).toEqual([]); // the first admin token is shown once, ever
    expect(second.cc.keys.ccKey).toBe(ccKey);
    const ws2 = {
      ...ws,
      client: new ApiClient({ baseUrl: second.url, signer: { keyId: ws.id, privateKey: ws.key.privateKey } }),
    };
    const phone2 = new ApiClient({
      baseUrl: second.url,
      signer: { keyId: phone.deviceId, privateKey: phone.signing.privateKey },
    });
    const after = await ws2.client.call('GET', '/v1/workstation/policy', undefined, SignedPolicySchema, CALL);
    expect(after).toEqual(policy);
    expect((await checkSignedPolicy(after, fromBase64url(ws.enrolled.ccKey), ws.id, policy.policy.version)).ok).toBe(
      true,
    );
    await second.admin.call('GET', '/v1/admin/settings', undefined, any, CALL);
    // A request captured before the restart is still a replay after it.
    expect((await rawRequest(second.url, 'GET', '/v1/workstation/inbox', { headers: beforeRestart })).status).toBe(401);

    const inbox = await phone2.call('GET', '/v1/device/inbox', undefined, DeviceInboxResponseSchema, CALL);
    expect(inbox.authRequests.map((r) => r.requestId)).toEqual([requestId]);
    const { body } = await signedDecision(phone, { requestId, workstationId: ws.id, user: 'alice', challenge });
    await sendDecision({ client: phone2 }, requestId, body);
    expect((await authStatus(ws2, requestId)).status).toBe('approved');
    const logs = [...first.logLines, ...second.logLines].join('');
    expect(logs).not.toMatch(/lk_admin_[A-Za-z0-9_-]{43}/);
    expect(logs).not.toMatch(/lk_install_[A-Za-z0-9_-]{43}/);
    expect((await fs.stat(`${second.databaseFile}.keys`)).mode & 0o777).toBe(0o600);
    expect((await fs.stat(second.databaseFile)).mode & 0o777).toBe(0o600);
  });

  it('answers a waiting long-poll at once when it stops, and stops promptly under keep-alive traffic', async () => {
    const cc = await startTestCc();
    const ws = await enroll(cc, await installToken(cc), 'poller');
    const waiting = ws.client.call('GET', '/v1/workstation/inbox?wait=30', undefined, any, { timeoutMs: 35_000 });
    let stopped = false;
    const busy = Promise.all(
      Array.from({ length: 16 }, async () => {
        while (!stopped)
          await ws.client.call('GET', '/v1/workstation/inbox', undefined, any, CALL).catch(() => undefined);
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = Date.now();
    await cc.close();
    expect(Date.now() - started).toBeLessThan(5_000); // not the 72 s keep-alive timeout
    stopped = true;
    await busy;
    await waiting;
  });
});

describe('the key file', () => {
  it('is refused when group- or world-accessible, a symlink, missing, or holding other keys', async () => {
    const cc = await startTestCc();
    await cc.close();
    const keys = `${cc.databaseFile}.keys`;
    await fs.chmod(keys, 0o640);
    expect((await startFailure(cc.databaseFile)).code).toBe('keys-insecure');
    await fs.chmod(keys, 0o600);

    const elsewhere = path.join(cc.dir, 'elsewhere.keys');
    await fs.rename(keys, elsewhere);
    await fs.symlink(elsewhere, keys);
    expect((await startFailure(cc.databaseFile)).code).toBe('keys-insecure');
    await fs.unlink(keys);
    const missing = await startFailure(cc.databaseFile);
    expect(missing.code).toBe('keys-missing');
    expect(missing.message).toMatch(/restore the key file/);

    const other = await startTestCc();
    await other.close();
    await fs.copyFile(`${other.databaseFile}.keys`, keys);
    await fs.chmod(keys, 0o600);
    expect((await startFailure(cc.databaseFile)).code).toBe('keys-mismatch');

    await fs.rename(elsewhere, keys);
    const back = await startTestCc({ dir: cc.dir, adminToken: cc.adminToken });
    await back.close();
  });

  it('and a database from a newer release is refused', async () => {
    const dir = await makeTempDir('latchkey-cc-');
    const databaseFile = path.join(dir, 'cc.db');
    const cc = await startTestCc({ dir });
    await cc.close();
    const db = new BetterSqlite3(databaseFile);
    db.prepare('UPDATE schema_version SET version = 99').run();
    db.close();
    expect((await startFailure(databaseFile)).code).toBe('database-newer');
  });
});
