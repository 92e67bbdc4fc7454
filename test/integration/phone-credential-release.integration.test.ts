/**
 * The phone's credential key and its release online (docs/windows.md §6.3, §6.5), with the real
 * parts: the Control Center on loopback with SQLite on disk, the agent (in this process) and
 * `latchkey phone` CLI processes. Pairing leaves CK.pub in the agent's sealed state and CK sealed in
 * the phone's vault; the agent's sign-in asks for the credential (as it will for a Windows lock
 * screen from SYSTEM), the phone releases k sealed to Q, and the agent opens a copy made by
 * protocol/credential-wrap.ts. A forged request, another device's copy, a replayed release and
 * malformed fields are refused; neither the password nor k reaches a log or the database.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { ControlCenterLink } from '../../agent/online/control-center-link.js';
import { OnlineSignIn } from '../../agent/online/online-sign-in.js';
import {
  buildCredentialAsk,
  logonCredentialFromCopyKey,
  logonCredentialFromRelease,
} from '../../agent/online/phone-credential-release.js';
import type { PhoneCopy, WindowsCredentialState } from '../../agent/state/windows-credential.js';
import { loadIdentity, type LoadedIdentity } from '../../agent/online/workstation-identity.js';
import { KeyedMutex } from '../../agent/keyed-mutex.js';
import { AuditLog } from '../../agent/state/audit-log.js';
import { FileVaultStore } from '../../phone/cli/vault-file.js';
import { loadCredentialKey } from '../../phone/core/credential-key.js';
import { ApiClient, ApiError } from '../../platform/api-client.js';
import { systemClock } from '../../platform/clock.js';
import { openKeystore } from '../../platform/keystore/keystore.js';
import { createLogger } from '../../platform/log.js';
import { copyKeyFor } from '../../protocol/credential-wrap.js';
import { ED25519, generateKeyPair, importPrivateKey } from '../../protocol/crypto/webcrypto.js';
import { fromBase64url, toBase64url } from '../../protocol/online/base64url.js';
import { signCredentialRequest } from '../../protocol/online/credential-release.js';
import { AuthStatusResponseSchema, CreateAuthResponseSchema } from '../../protocol/online/http-bodies.js';
import { decodeLogonCredential, utf16le } from '../../protocol/windows-logon-credential.js';
import { TEST_KDF } from '../helpers/agent-harness.js';
import { agentStateStore, expectCredentialKeyPaired, expectNoSecrets } from '../helpers/phone-release.js';
import {
  expectReleasesFound,
  haystacksUnder,
  keepCredentialInState,
  phoneCopyAtRest,
} from '../helpers/phone-release.js';
import { onlineReleaseSetForSuite } from '../helpers/phone-release-fixture.js';
import { PhoneCli, eventually, pairThroughAgent } from '../helpers/online-stack.js';
import type { CliResult } from '../helpers/run-cli.js';

const USER = 'daemon';
const PASSWORD = 'Tr0ub4dor&3 — säkert ☃';
const SID = 'S-1-5-21-1004336348-1177238915-682003330-1001';
const set = onlineReleaseSetForSuite({
  phoneTempPrefix: 'latchkey-release-',
  phoneName: 'ana',
  enrolledAs: 'ws-release',
});
let otherPhone: PhoneCli;
let identity: LoadedIdentity;
const testLog: string[] = [];

beforeAll(async () => {
  otherPhone = await PhoneCli.create(set.phoneDir, 'ben');
});

async function vaultOf(cli: PhoneCli) {
  const passphrase = (await fs.readFile(cli.passphraseFile, 'utf8')).split('\n')[0]!;
  return (await FileVaultStore.open(cli.home, new TextEncoder().encode(passphrase))).read();
}

async function run(cli: PhoneCli, args: string[]): Promise<CliResult> {
  const result = await cli.run(args);
  set.outputs.push(result);
  return result;
}

/** The workstation's side as the agent runs it, over the agent's own identity and sealed state holding `credential`. */
async function signInWith(credential: WindowsCredentialState | null) {
  const log = createLogger({ level: 'debug', write: (line) => testLog.push(line) });
  const store = await keepCredentialInState(agentStateStore(set.agent.files), USER, credential);
  return new OnlineSignIn(
    {
      link: new ControlCenterLink(identity, log),
      store,
      mutex: new KeyedMutex(),
      audit: new AuditLog(path.join(set.agent.files.dir, 'release-audit.jsonl'), log),
      log,
      clock: systemClock,
      policy: () => {
        throw new Error('not needed');
      },
      kdf: { ...TEST_KDF, parallelism: 1 } as never,
    },
    () => undefined,
  );
}

function phoneCopyFor(deviceId: string, credentialKey: string, generation = 3) {
  return phoneCopyAtRest(fromBase64url(credentialKey), PASSWORD, { sid: SID, generation, deviceId });
}

function windowsCredential(copies: WindowsCredentialState['copies']): WindowsCredentialState {
  return { sid: SID, domain: 'DESK-042', user: 'daemon', generation: 3, copies };
}

/** The one pending auth request in the CC's database, once the agent created it. */
async function pendingRequestId(): Promise<string> {
  return eventually('the auth request at the Control Center', async () => {
    const db = new BetterSqlite3(set.cc.databaseFile, { readonly: true });
    try {
      const row = db.prepare('SELECT id FROM auth_requests WHERE decision IS NULL ORDER BY created_at DESC').get() as
        | { id: string }
        | undefined;
      return row?.id;
    } finally {
      db.close();
    }
  });
}

describe("the phone's credential key (docs/windows.md §6.3)", () => {
  it('pairing through the agent leaves CK.pub in its sealed state and CK sealed in the vault', async () => {
    await pairThroughAgent(set.agent.files.socket, USER, set.phone, set.cc.url);
    await pairThroughAgent(set.agent.files.socket, USER, otherPhone, set.cc.url);
    const devices = (await set.state(USER)).devices;
    expect(devices).toHaveLength(2);
    for (const [cli, device] of [
      [set.phone, devices[0]!],
      [otherPhone, devices[1]!],
    ] as const) {
      const pairing = (await vaultOf(cli)).pairings[0]!;
      expect(pairing.deviceId).toBe(device.deviceId);
      await expectCredentialKeyPaired(device.credentialKey, pairing.credentialKey, cli.home);
    }
    expect(devices[0]!.credentialKey).not.toBe(devices[1]!.credentialKey);
    // The agent's journal is sealed too.
    const users = path.join(set.agent.files.stateDir, 'users');
    for (const name of await fs.readdir(users)) {
      const raw = await fs.readFile(path.join(users, name));
      expect(raw.includes(Buffer.from(devices[0]!.credentialKey!))).toBe(false);
    }
    identity = (await loadIdentity(
      set.agent.files.stateDir,
      openKeystore({ backend: 'file', directory: set.agent.files.keystoreDir }),
    ))!;
    // From here the test is the agent (a Windows lock screen's sign-in): the agent process stops writing.
    await set.stack.stopNow(set.agent);
  }, 120_000);
});

describe('the release online (docs/windows.md §6.5)', () => {
  it('the phone releases k sealed to Q; the agent opens the copy and hands back the logon credential', async () => {
    const state = await set.state(USER);
    const device = state.devices[0]!;
    const credential = windowsCredential([await phoneCopyFor(device.deviceId, device.credentialKey!)]);
    const signIn = (await signInWith(credential)).signIn(USER, 30_000, undefined, undefined, true);
    await pendingRequestId();
    expect(await run(set.phone, ['approve'])).toMatchObject({ code: 0 });
    const result = await signIn;
    if (!result.ok || !result.credential?.ok) throw new Error(JSON.stringify(result));
    const decoded = decodeLogonCredential(result.credential.logonCredential);
    if (!decoded.ok) throw new Error(decoded.message);
    expect(decoded.credential.domain).toBe('DESK-042');
    expect(decoded.credential.user).toBe('daemon');
    expect(Buffer.from(decoded.credential.password).equals(Buffer.from(utf16le(PASSWORD)))).toBe(true);

    // What the phone's k was (the test reads CK from the vault): it must appear nowhere.
    const ck = await loadCredentialKey((await vaultOf(set.phone)).pairings[0]!.credentialKey);
    set.copyKeys.push((await copyKeyFor(ck!, (credential.copies[0] as PhoneCopy).eph))!);

    // While the release held the password open, the other phone (paired, no copy yet) got its copy (§6.6).
    const sealed = (await set.state(USER)).windowsCredential!;
    const other = state.devices[1]!;
    const otherCopy = sealed.copies.find(
      (copy): copy is PhoneCopy => copy.holder === 'phone' && copy.deviceId === other.deviceId,
    );
    expect(otherCopy).toMatchObject({ credentialKey: other.credentialKey });
    expect(sealed.generation).toBe(3);
    const otherCk = await loadCredentialKey((await vaultOf(otherPhone)).pairings[0]!.credentialKey);
    const otherK = (await copyKeyFor(otherCk!, otherCopy!.eph))!;
    set.copyKeys.push(otherK);
    const viaOther = await logonCredentialFromCopyKey(otherK, sealed, other.deviceId);
    if (!viaOther.ok) throw new Error(viaOther.message);
    expect(viaOther.logonCredential).toEqual(result.credential.logonCredential);

    // Replayed: the stored release, opened for a later request (another Q), does not open.
    const db = new BetterSqlite3(set.cc.databaseFile, { readonly: true });
    const row = db.prepare('SELECT id, challenge, release FROM auth_requests WHERE release IS NOT NULL').get() as {
      id: string;
      challenge: string;
      release: string;
    };
    db.close();
    const context = { challenge: row.challenge, user: USER, workstationId: identity.identity.workstationId };
    const later = (await buildCredentialAsk(
      { ...state, windowsCredential: credential },
      context,
      identity.privateKey,
    ))!;
    const replay = { requestId: row.id, deviceId: device.deviceId, release: JSON.parse(row.release) };
    expect(await logonCredentialFromRelease(later, replay, context, credential)).toMatchObject({
      ok: false,
      code: 'release-unopenable',
    });
  }, 60_000);

  it("a request naming only another phone's copy is approved without a release", async () => {
    const state = await set.state(USER);
    const other = state.devices[1]!;
    const credential = windowsCredential([await phoneCopyFor(other.deviceId, other.credentialKey!)]);
    const signIn = (await signInWith(credential)).signIn(USER, 30_000, undefined, undefined, true);
    const requestId = await pendingRequestId();
    expect(await run(set.phone, ['approve', requestId])).toMatchObject({ code: 0 });
    expect(await signIn).toMatchObject({
      ok: true,
      deviceId: state.devices[0]!.deviceId,
      credential: { ok: false, code: 'no-release' },
    });
    const db = new BetterSqlite3(set.cc.databaseFile, { readonly: true });
    expect(db.prepare('SELECT release FROM auth_requests WHERE id = ?').get(requestId)).toEqual({ release: null });
    db.close();
  }, 60_000);

  /** Starts the agent's sign-in, then does what a rogue Control Center would: swaps Q for its own key and signs with a key of its own. */
  async function forgedRequest() {
    const state = await set.state(USER);
    const device = state.devices[0]!;
    const credential = windowsCredential([await phoneCopyFor(device.deviceId, device.credentialKey!)]);
    const signIn = (await signInWith(credential)).signIn(USER, 30_000, undefined, undefined, true);
    const requestId = await pendingRequestId();
    const db = new BetterSqlite3(set.cc.databaseFile);
    try {
      const row = db.prepare('SELECT challenge, credential FROM auth_requests WHERE id = ?').get(requestId) as {
        challenge: string;
        credential: string;
      };
      const stored = JSON.parse(row.credential) as { copies: { deviceId: string; eph: string }[] };
      const rogue = await generateKeyPair(ED25519);
      const forged = await signCredentialRequest(
        { challenge: row.challenge, user: USER, workstationId: identity.identity.workstationId },
        { requestKey: toBase64url(new Uint8Array(32).fill(6)), copies: stored.copies },
        rogue.privateKey,
      );
      db.prepare('UPDATE auth_requests SET credential = ? WHERE id = ?').run(JSON.stringify(forged), requestId);
    } finally {
      db.close();
    }
    return { signIn, requestId };
  }

  it('a request the workstation did not sign (a rogue Control Center) is refused by the phone', async () => {
    const first = await forgedRequest();
    const refused = await run(set.phone, ['approve', first.requestId]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('was changed on the way');
    expect(refused.stderr).toContain('(credential-request-forged)');
    expect(await first.signIn).toMatchObject({ ok: false, code: 'denied' });
    // `serve --auto-approve` denies it the same way and says so.
    const second = await forgedRequest();
    const served = await run(set.phone, ['serve', '--once', '--auto-approve', '--timeout', '10']);
    expect(served.stdout).toContain('was changed on the way');
    expect(served.stdout).toContain('(credential-request-forged)');
    expect(await second.signIn).toMatchObject({ ok: false, code: 'denied' });
  }, 90_000);

  it('the Control Center refuses malformed credential fields with a clear 400 naming the field', async () => {
    const link = new ControlCenterLink(identity, createLogger({ write: (line) => testLog.push(line) }));
    const challenge = toBase64url(new Uint8Array(32).fill(8));
    const deviceId = (await set.state(USER)).devices[0]!.deviceId;
    const good = { requestKey: 'Q'.repeat(43), copies: [{ deviceId, eph: 'E'.repeat(43) }], signature: 'S'.repeat(86) };
    const post = (credential: unknown) =>
      link.client.call(
        'POST',
        '/v1/workstation/auth-requests',
        { user: USER, challenge, ttlMs: 5000, credential },
        AuthStatusResponseSchema,
        {
          timeoutMs: 10_000,
        },
      );
    const refusal = async (credential: unknown) => {
      const error = await post(credential).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError).status).toBe(400);
      expect((error as ApiError).code).toBe('bad-request');
      return (error as ApiError).message;
    };
    expect(await refusal({ ...good, copies: [] })).toMatch(/credential\.copies must list at least one copy/);
    const many = Array.from({ length: 17 }, (_, i) => ({
      deviceId: `dev_${String(i).padStart(26, '0')}`,
      eph: good.copies[0]!.eph,
    }));
    expect(await refusal({ ...good, copies: many })).toMatch(/credential\.copies must list at most 16 copies/);
    expect(await refusal({ ...good, copies: [good.copies[0], good.copies[0]] })).toMatch(
      /credential\.copies must name each deviceId once/,
    );
    expect(await refusal({ ...good, requestKey: 'Q'.repeat(4000) })).toMatch(
      /credential\.requestKey must be a base64url 32-byte key/,
    );
    expect(await refusal({ ...good, copies: [{ deviceId, eph: 'E'.repeat(43), k: 'K'.repeat(43) }] })).toMatch(
      /credential\.copies\[0\]\.k is not a known field/,
    );
    expect(await refusal({ ...good, password: PASSWORD })).toMatch(/credential\.password is not a known field/);
    expect(await refusal({ requestKey: good.requestKey, copies: good.copies })).toMatch(
      /credential\.signature is missing/,
    );

    // A release only in an approval of a credential request: the phone's own key, a request without one.
    const vault = await vaultOf(set.phone);
    const phoneClient = new ApiClient({
      baseUrl: set.cc.url,
      signer: {
        keyId: vault.pairings[0]!.deviceId,
        privateKey: await importPrivateKey(ED25519, fromBase64url(vault.device.signingPkcs8)),
      },
    });
    const { requestId } = await link.client.call(
      'POST',
      '/v1/workstation/auth-requests',
      { user: USER, challenge, ttlMs: 5000 },
      CreateAuthResponseSchema,
      { timeoutMs: 10_000 },
    );
    const release = { eph: 'E'.repeat(43), nonce: 'N'.repeat(16), ciphertext: 'C'.repeat(64) };
    const decided = await phoneClient
      .call(
        'POST',
        `/v1/device/auth-requests/${requestId}/decision`,
        { decision: 'approve', signedAt: Date.now(), signature: 'S'.repeat(86), release },
        AuthStatusResponseSchema,
        { timeoutMs: 10_000 },
      )
      .then(
        () => null,
        (e: unknown) => e as ApiError,
      );
    expect(decided).toMatchObject({ status: 400, code: 'bad-request' });
    expect(decided?.message).toMatch(/^release: only an approval of a request that asked for a credential carries one/);
    const tooLong = await phoneClient
      .call(
        'POST',
        `/v1/device/auth-requests/${requestId}/decision`,
        {
          decision: 'approve',
          signedAt: Date.now(),
          signature: 'S'.repeat(86),
          release: { ...release, ciphertext: 'C'.repeat(68) },
        },
        AuthStatusResponseSchema,
        { timeoutMs: 10_000 },
      )
      .then(
        () => null,
        (e: unknown) => e as ApiError,
      );
    expect(tooLong?.message).toMatch(/release\.ciphertext must be base64url of 48 bytes/);
  }, 60_000);

  it('neither the password nor k reaches a log, the output, the vault or the database in clear', async () => {
    expect(set.copyKeys).toHaveLength(2);
    const haystacks: [string, Buffer][] = [
      ['the Control Center log', Buffer.from(set.cc.logLines.join('\n'))],
      ['the agent log', Buffer.from(set.agent.logLines.join('\n'))],
      ["the sign-in's log", Buffer.from(testLog.join('\n'))],
      ['the phone output', Buffer.from(set.outputs.map((o) => o.stdout + o.stderr).join('\n'))],
    ];
    haystacks.push(...(await haystacksUnder(path.dirname(set.cc.databaseFile))));
    for (const cli of [set.phone, otherPhone])
      haystacks.push(['vault', await fs.readFile(path.join(cli.home, 'vault.json'))]);
    haystacks.push(...(await haystacksUnder(set.agent.files.dir)));
    expect(haystacks.length).toBeGreaterThan(6);
    // The search reaches what it should: the database holds the relayed release (ciphertext only).
    expectReleasesFound(set.cc.databaseFile, 1, haystacks);
    expectNoSecrets(haystacks, [new TextEncoder().encode(PASSWORD), utf16le(PASSWORD), ...set.copyKeys]);
  });
});
