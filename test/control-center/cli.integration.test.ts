// The real `latchkey control-center` and `latchkey admin` processes (bin/latchkey.js): the first
// admin token on stdout once, admin commands against the running server, SIGTERM, restart,
// --create-admin-token, and HTTPS with a private CA.
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { latchkeyCommand } from '../../cli/agent-process.js';
import { startControlCenter } from '../../control-center/control-center.js';
import type { FetchLike } from '../../platform/api-client.js';
import { newId } from '../../protocol/online/ids.js';
import { DeviceInboxResponseSchema } from '../../protocol/online/http-bodies.js';
import { EnrollResponseSchema } from '../../protocol/online/http-bodies.js';
import { ED25519, generateKeyPair } from '../../protocol/crypto/webcrypto.js';
import { makeTempDir } from '../helpers/agent-harness.js';
import { runCli } from '../helpers/run-cli.js';
import { ApiClient, CALL, any, enroll, enrollProof, newPhone, pair, testClock, toBase64url } from './helpers.js';
import type { TestCc, TestWorkstation } from './helpers.js';
import { randomBytes } from '../../protocol/crypto/hashes.js';
import { askAuth, sendDecision, signedDecision } from './helpers.js';
import { makeSelfSignedCertificate } from '../helpers/tls.js';

interface ServerProcess {
  readonly child: ChildProcess;
  readonly url: string;
  stdout: string;
  stderr: string;
}

/** Starts the real server; resolves once it listens and, at a first start, once its token line arrived (stdout and stderr are separate pipes). */
async function startServer(databaseFile: string, firstStart: boolean): Promise<ServerProcess> {
  const run = latchkeyCommand(['control-center', '--db', databaseFile, '--listen', '127.0.0.1:0']);
  const child = spawn(run.command, run.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const server = { child, url: '', stdout: '', stderr: '' };
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line: ${server.stderr}`)), 20_000);
    const check = () => {
      const match = /control-center\.listening url=(\S+)/.exec(server.stderr);
      if (match && (!firstStart || server.stdout.endsWith('\n'))) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', (chunk: Buffer) => {
      server.stdout += chunk.toString();
      check();
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      server.stderr += chunk.toString();
      check();
    });
    child.once('exit', (code) => reject(new Error(`the server exited with ${code}: ${server.stderr}`)));
  });
  return Object.assign(server, { url });
}

async function stop(server: ServerProcess): Promise<number | null> {
  if (server.child.exitCode !== null) return server.child.exitCode;
  const exited = new Promise<number | null>((resolve) => server.child.once('exit', (code) => resolve(code)));
  server.child.kill('SIGTERM');
  return exited;
}

let dir: string;
let databaseFile: string;
let server: ServerProcess;
let token: string;
let workstation: TestWorkstation;
const admin = (args: string[], env: Record<string, string> = { LATCHKEY_ADMIN_TOKEN: token }) =>
  runCli(['admin', '--url', server.url, ...args], { env });

beforeAll(async () => {
  dir = await makeTempDir('latchkey-cc-cli-');
  databaseFile = path.join(dir, 'cc.db');
  server = await startServer(databaseFile, true);
  token = /lk_admin_[A-Za-z0-9_-]{43}/.exec(server.stdout)?.[0] ?? '';
});
afterAll(async () => {
  await stop(server);
});

describe('latchkey control-center', () => {
  it('prints the first admin token on stdout, once, with a clear line, and never to its log', () => {
    expect(server.stdout).toMatch(
      /^Latchkey Control Center: first admin token \(shown once, store it now\): lk_admin_[A-Za-z0-9_-]{43}\n$/,
    );
    expect(server.stderr).not.toContain(token);
  });
});

describe('latchkey admin against the running server', () => {
  it('sets and shows settings, creates an install token a workstation enrolls with, and lists and moves it', async () => {
    const set = await admin(['settings', 'set', 'offlineMode=true', 'pinCount=40']);
    expect(set.code).toBe(0);
    expect(set.stdout).toMatch(/in force: {2}offlineMode=true pinCount=40/);
    const shown = await admin(['--json', 'settings', 'show']);
    expect(JSON.parse(shown.stdout)).toMatchObject({ scope: 'tenant', overrides: { offlineMode: true, pinCount: 40 } });

    const created = await admin(['install-tokens', 'create', '--max-uses', '2', '--note', 'ci']);
    expect(created.code).toBe(0);
    const installToken = /lk_install_[A-Za-z0-9_-]{43}/.exec(created.stdout)?.[0];
    expect(installToken).toBeDefined();
    const t = { url: server.url, clock: testClock() } as unknown as TestCc;
    const ws = await enroll(t, installToken!, 'cli-ws');
    workstation = ws;
    expect(ws.enrolled.policy.settings.pinCount).toBe(40);
    expect((await admin(['install-tokens', 'list'])).stdout).toMatch(/1\/2 uses .*"ci"/);

    const group = await admin(['--json', 'groups', 'create', 'lab']);
    const groupId = JSON.parse(group.stdout).groupId as string;
    expect((await admin(['workstations', 'move', ws.id, groupId])).stdout).toContain(
      `Moved ${ws.id} to group ${groupId}`,
    );
    expect((await admin(['workstations', 'list', '--group', groupId])).stdout).toContain('cli-ws');
    expect((await admin(['users', 'list'])).stdout).toBe('No users.\n');
    expect((await admin(['devices', 'list'])).stdout).toBe('No phones.\n');
    const audit = await admin(['audit', '--limit', '3']);
    expect(audit.stdout).toMatch(/workstation\.move/);
    expect(audit.stdout).not.toContain(installToken!);
  });

  it('sets the PIN display timeout, shows a workstation, asks it to reset a lockout, and exports filtered events as CSV', async () => {
    const set = await admin(['settings', 'set', 'pinDisplaySeconds=90']);
    expect(set.stdout).toMatch(/pinDisplaySeconds=90/);
    const tooShort = await admin(['settings', 'set', 'pinDisplaySeconds=5']);
    expect(tooShort.code).toBe(1);
    expect(tooShort.stderr).toBe(
      'latchkey: the Control Center refused (bad-request): pinDisplaySeconds must be an integer from 10 to 300.\n',
    );
    const shown = await admin(['workstations', 'show', workstation.id]);
    expect(shown.stdout).toMatch(/cli-ws .* policy -\n {2}no paired phones/);
    const reset = await admin(['workstations', 'reset-lockout', workstation.id, '--user', 'alice']);
    expect(reset.stdout).toMatch(new RegExp(`^Asked ${workstation.id} to clear alice's failed attempts \\(lr_`));
    expect((await admin(['workstations', 'show', workstation.id])).stdout).toMatch(
      /lockout reset lr_\S+ for alice: pending/,
    );
    const event = (type: string, user: string) => ({
      id: newId('ev'),
      time: Date.now(),
      type,
      user,
      result: 'accepted',
      reason: null,
      context: null,
    });
    await workstation.client.call(
      'POST',
      '/v1/workstation/events',
      { events: [event('verify', 'alice'), event('online-auth', 'alice'), event('verify', 'bob')] },
      any,
      CALL,
    );
    const csv = await admin(['events', '--csv', '--user', 'alice', '--type', 'verify', '--since', '2020-01-01']);
    expect(csv.stdout.split('\r\n').filter(Boolean)).toHaveLength(2); // header + alice's offline unlock
    expect(csv.stdout).toMatch(/,alice,verify,accepted,/);
    const badTime = await admin(['events', '--since', 'yesterday']);
    expect(badTime.code).toBe(64);
    expect(badTime.stderr).toMatch(/--since must be a time such as 2026-12-04/);
  });

  it('says what a one-argument command did: groups create and delete, admin-tokens create and revoke', async () => {
    const created = await admin(['groups', 'create', 'one-call']);
    expect(created.stdout).toMatch(/^Created group one-call: g_\w+\n$/);
    const groupId = /g_\w+/.exec(created.stdout)![0];
    expect((await admin(['groups', 'delete', groupId])).stdout).toBe(`Deleted group ${groupId}.\n`);
    const token = JSON.parse((await admin(['--json', 'admin-tokens', 'create', 'one-call'])).stdout);
    const revoked = await admin(['admin-tokens', 'revoke', token.adminTokenId]);
    expect(revoked.stdout).toBe(`Revoked ${token.adminTokenId}.\n`);
  });

  it('unsets an override and keeps the others, and set puts it back', async () => {
    const unset = JSON.parse((await admin(['--json', 'settings', 'unset', 'pinDisplaySeconds'])).stdout);
    expect(unset.overrides).not.toHaveProperty('pinDisplaySeconds');
    expect(unset.overrides).toMatchObject({ offlineMode: true });
    const set = JSON.parse((await admin(['--json', 'settings', 'set', 'pinDisplaySeconds=90'])).stdout);
    expect(set.overrides).toMatchObject({ offlineMode: true, pinDisplaySeconds: 90 });
  });

  it('reads the token from --token-file, and refuses a wrong, a missing or an unreachable one clearly', async () => {
    const file = path.join(dir, 'admin-token');
    await fs.writeFile(file, `${token}\n`, { mode: 0o600 });
    expect((await admin(['--token-file', file, 'admin-tokens', 'list'], {})).code).toBe(0);
    const wrong = await admin(['groups', 'list'], { LATCHKEY_ADMIN_TOKEN: `lk_admin_${'C'.repeat(43)}` });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/refused \(unauthenticated\): The admin token is not valid/);
    const none = await runCli(['admin', '--url', server.url, 'groups', 'list'], { env: { LATCHKEY_ADMIN_TOKEN: '' } });
    expect(none.code).toBe(64);
    expect(none.stderr).toMatch(/no admin token/);
    const unreachable = await runCli(['admin', '--url', 'http://127.0.0.1:1', 'groups', 'list'], {
      env: { LATCHKEY_ADMIN_TOKEN: token },
    });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/cannot be reached/);
    const off = await admin(['recovery-pin', 'reveal', '--workstation', `ws_${'0'.repeat(26)}`, '--user', 'alice']);
    expect(off.code).toBe(1);
    expect(off.stderr).toMatch(/not-found/);
    const bad = await admin(['settings', 'set', 'pinCount=500']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/pinCount must be an integer from 10 to 100/);
  });

  it('stops on SIGTERM within seconds under long-polls and keep-alive traffic, prints no token at the next start, and --create-admin-token makes one more', async () => {
    let stopping = false;
    const t = { url: server.url, clock: testClock() } as unknown as TestCc;
    const phone = await newPhone(t);
    await pair(t, workstation, phone, 'alice');
    // Approvals in a loop, as bench/control-center-approvals.mjs drives them: both sides long-poll.
    const phoneLoop = async () => {
      while (!stopping) {
        const inbox = await phone.client.call('GET', '/v1/device/inbox?wait=25', undefined, DeviceInboxResponseSchema, {
          timeoutMs: 30_000,
        });
        for (const r of inbox.authRequests) {
          const { body } = await signedDecision(phone, {
            requestId: r.requestId,
            workstationId: workstation.id,
            user: 'alice',
            challenge: r.challenge,
          });
          await sendDecision(phone, r.requestId, body);
        }
      }
    };
    const workstationLoop = async () => {
      while (!stopping) {
        const { requestId } = await askAuth(workstation, {
          user: 'alice',
          challenge: toBase64url(randomBytes(32)),
          ttlMs: 60_000,
        });
        await workstation.client.call('GET', `/v1/workstation/auth-requests/${requestId}?wait=25`, undefined, any, {
          timeoutMs: 30_000,
        });
      }
    };
    const traffic = Promise.all(
      [phoneLoop(), ...Array.from({ length: 6 }, workstationLoop)].map((loop) => loop.catch(() => undefined)),
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    stopping = true; // the clients send nothing new; their long-polls are still waiting on kept-alive connections
    const started = Date.now();
    expect(await stop(server)).toBe(0);
    expect(Date.now() - started).toBeLessThan(5_000); // not the 72 s keep-alive timeout
    await traffic;
    server = await startServer(databaseFile, false);
    expect(server.stdout).toBe('');
    expect((await admin(['groups', 'list'])).code).toBe(0);
    const extra = await runCli(['control-center', '--db', databaseFile, '--create-admin-token', 'break-glass']);
    expect(extra.code).toBe(0);
    const second = /lk_admin_[A-Za-z0-9_-]{43}/.exec(extra.stdout)?.[0];
    expect(second).toBeDefined();
    expect((await admin(['admin-tokens', 'list'], { LATCHKEY_ADMIN_TOKEN: second! })).stdout).toMatch(/break-glass/);
  });
});

describe('HTTPS', () => {
  it('serves TLS with --tls-cert/--tls-key; clients trust it through their CA, not otherwise', async () => {
    const tlsDir = await makeTempDir('latchkey-cc-tls-');
    const cert = path.join(tlsDir, 'cert.pem');
    const key = path.join(tlsDir, 'key.pem');
    const made = makeSelfSignedCertificate(cert, key, '/CN=latchkey-test', ['-addext', 'subjectAltName=IP:127.0.0.1']);
    expect(made.status, made.stderr).toBe(0);
    const printed: string[] = [];
    const cc = await startControlCenter({
      databaseFile: path.join(tlsDir, 'cc.db'),
      host: '127.0.0.1',
      port: 0,
      tls: { cert: await fs.readFile(cert), key: await fs.readFile(key) },
      log: { debug() {}, info() {}, warn() {}, error() {} },
      printSecretLine: (line) => printed.push(line),
    });
    try {
      expect(cc.url).toMatch(/^https:\/\//);
      const tlsToken = /lk_admin_[A-Za-z0-9_-]{43}/.exec(printed.join(''))![0];
      const trusted = await runCli(['admin', '--url', cc.url, 'settings', 'show'], {
        env: { LATCHKEY_ADMIN_TOKEN: tlsToken, NODE_EXTRA_CA_CERTS: cert },
      });
      expect(trusted.code, trusted.stderr).toBe(0);
      const untrusted = await runCli(['admin', '--url', cc.url, 'settings', 'show'], {
        env: { LATCHKEY_ADMIN_TOKEN: tlsToken },
      });
      expect(untrusted.code).toBe(1);
      expect(untrusted.stderr).toMatch(/cannot be reached/);

      // A workstation over HTTPS, through the api-client with a transport that trusts the CA.
      const ca = await fs.readFile(cert);
      const fetch: FetchLike = (url, init) =>
        new Promise((resolve, reject) => {
          const request = https.request(
            url,
            { method: init.method, headers: init.headers, ca, signal: init.signal },
            (response) => {
              const chunks: Buffer[] = [];
              response.on('data', (chunk: Buffer) => chunks.push(chunk));
              response.on('end', () =>
                resolve({
                  status: response.statusCode ?? 0,
                  arrayBuffer: async () => new Uint8Array(Buffer.concat(chunks)).buffer,
                }),
              );
            },
          );
          request.on('error', reject);
          request.end(init.body ? Buffer.from(init.body) : undefined);
        });
      const adminClient = new ApiClient({ baseUrl: cc.url, adminToken: tlsToken, fetch });
      const { token: created } = await adminClient.call(
        'POST',
        '/v1/admin/install-tokens',
        {},
        v.object({ token: v.string() }),
        CALL,
      );
      const pair = await generateKeyPair(ED25519);
      const enrolled = await new ApiClient({ baseUrl: cc.url, fetch }).call(
        'POST',
        '/v1/workstations/enroll',
        {
          installToken: created,
          name: 'tls-ws',
          publicKey: toBase64url(pair.publicKey),
          proof: await enrollProof(created, pair, 'tls-ws'),
        },
        EnrollResponseSchema,
        CALL,
      );
      expect(enrolled.ccKey).toBe(cc.keys.ccKey);
    } finally {
      await cc.close();
    }
  });
});
