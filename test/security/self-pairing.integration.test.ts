/**
 * docs/security.md "Pairing a phone": issue 9 item 1, run for real. On an enrolled workstation
 * (a real Control Center on loopback, a real agent, the reference phone core), a process running
 * as local user U asks the agent to pair a phone for U. Without U's password it gets nothing;
 * with it (checked through PAM) it pairs, and the audit says so; when the Workstation Settings
 * turn self-pairing off, only root may pair. Every attempt is an audit line.
 */
import { promises as fs } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { InProcessAgent } from '../helpers/agent-harness.js';
import { newPhoneApp, startManagedAgent } from '../helpers/managed-agent.js';
import { makeScriptDir, startScriptAs } from '../helpers/other-user.js';
import { eventually } from '../helpers/online-stack.js';
import { startTestCc, type TestCc, putSettings } from '../control-center/helpers.js';
import { createUser, pamService, type TestUser, removePamServicesAndUsers } from '../native/helpers/pam-env.js';
import { stopAfterAll } from '../helpers/stop-after-all.js';

/** As user U: `pair` (with a password when given), then `pair-finish` once the code is out. */
const PAIR_AS_USER = `
import net from 'node:net';
import { decodeReplyBody, encodeRequest } from './protocol/ipc-messages.js';
const [socketPath, user, password, pairingIdToFinish] = process.argv.slice(2);
function ask(request) {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath, () => socket.write(encodeRequest(request)));
    let data = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk]);
      if (data.length >= 8 && data.length >= 8 + data.readUInt32BE(4)) {
        const reply = decodeReplyBody(data.subarray(8));
        socket.destroy();
        resolve({ status: reply.status, reason: reply.reason, message: reply.message, code: reply.secret ? Buffer.from(reply.secret).toString() : undefined, detail: reply.detail });
      }
    });
    socket.on('error', (error) => resolve({ transportError: error.code }));
  });
}
if (pairingIdToFinish) {
  process.stdout.write('finish ' + JSON.stringify(await ask({ op: 'pair-finish', requestId: 2, user, pairingId: pairingIdToFinish, wait: 1000 })) + '\\n');
  process.exit(0);
}
const started = await ask({ op: 'pair', requestId: 1, user, ...(password ? { password: new TextEncoder().encode(password) } : {}) });
process.stdout.write('start ' + JSON.stringify(started) + '\\n');
if (started.status === 'ok') {
  const { pairingId } = JSON.parse(started.detail);
  process.stdout.write('finish ' + JSON.stringify(await ask({ op: 'pair-finish', requestId: 2, user, pairingId, wait: 30000 })) + '\\n');
}
`;

let cc: TestCc;
let agent: InProcessAgent;
let user: TestUser;
let scripts: string;

interface Reply {
  status: string;
  reason?: string;
  message?: string;
  code?: string;
  detail?: string;
}

/** Runs the script as U; `onCode` gets the pairing code when one is handed out. */
async function pairAsUser(
  password: string | undefined,
  onCode?: (code: string) => Promise<void>,
): Promise<{ start: Reply; finish?: Reply }> {
  const run = startScriptAs(user.uid, scripts, 'pair', [agent.files.socket, user.name, password ?? '']);
  try {
    const start = JSON.parse((await run.waitFor(/^start /, 30_000)).slice(6)) as Reply;
    if (start.status !== 'ok') return { start };
    await onCode?.(start.code!);
    return { start, finish: JSON.parse((await run.waitFor(/^finish /, 40_000)).slice(7)) as Reply };
  } finally {
    await run.stop();
  }
}

async function auditLines(): Promise<Array<Record<string, unknown>>> {
  const text = await fs.readFile(agent.files.auditLog, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

const suite = stopAfterAll();
beforeAll(async () => {
  user = suite.stop(createUser('pair'), removePamServicesAndUsers);
  scripts = await makeScriptDir({ pair: PAIR_AS_USER });
  const service = pamService('selfpair', ['auth required pam_unix.so']);
  cc = suite.stop(await startTestCc(), (started) => started.close());
  // The socket where U can reach it (a root-owned 0755 directory), as /run/latchkey is.
  agent = suite.stop(
    await startManagedAgent(cc, {
      name: 'ws-self-pairing',
      socketDir: scripts,
      config: { selfEnrollPamService: service },
    }),
    (started) => started.close(),
  );
}, 60_000);

describe("pairing a phone online needs root or the user's password", () => {
  it('the attack of the review: a process running as U, without the password, gets no code and no pairing', async () => {
    const { start } = await pairAsUser(undefined);
    expect(start).toMatchObject({
      status: 'error',
      reason: 'permission-denied',
      message: expect.stringContaining('needs your password'),
    });
    expect(start.code).toBeUndefined();
    const wrong = await pairAsUser('not the password');
    expect(wrong.start).toMatchObject({ status: 'error', reason: 'password-rejected' });
    expect(wrong.start.code).toBeUndefined();
    // Root's sign-in for U has no phone to ask.
    expect(await agent.ask({ op: 'online-auth', user: user.name, context: 'test', wait: 2_000 })).toMatchObject({
      status: 'unavailable',
      reason: 'no-device',
    });
    const refusals = (await auditLines()).filter((line) => line.event === 'pairing' && line.user === user.name);
    expect(refusals).toEqual([
      expect.objectContaining({
        result: 'refused',
        reason: 'permission-denied',
        peer: expect.objectContaining({ uid: user.uid }),
      }),
      expect.objectContaining({
        result: 'refused',
        reason: 'password-rejected',
        peer: expect.objectContaining({ uid: user.uid }),
      }),
    ]);
  }, 60_000);

  it("with U's password it pairs, audited as checked by password; the phone then approves root's sign-in for U", async () => {
    const phone = await newPhoneApp('attacker phone');
    const { start, finish } = await pairAsUser(user.password, (code) => phone.pair(code, cc.url).then(() => undefined));
    expect(start).toMatchObject({ status: 'ok' });
    expect(finish).toMatchObject({ status: 'ok' });
    const lines = (await auditLines()).filter((line) => line.event === 'pairing' && line.user === user.name);
    expect(lines.slice(-2)).toEqual([
      expect.objectContaining({
        result: 'started',
        reason: 'password-checked',
        peer: expect.objectContaining({ uid: user.uid }),
      }),
      expect.objectContaining({ result: 'ok' }),
    ]);
    const answer = agent.ask({ op: 'online-auth', user: user.name, context: 'test', wait: 15_000 }, 20_000);
    const pending = await eventually('the request on the phone', async () => (await phone.pendingRequests())[0]);
    await phone.decide(pending.request.requestId, 'approve');
    expect(await answer).toMatchObject({ status: 'accepted' });
  }, 90_000);

  it('only the uid that started a pairing (or root) may finish it', async () => {
    const started = await agent.ask({ op: 'pair', user: user.name });
    expect(started).toMatchObject({ status: 'ok' });
    const { pairingId } = JSON.parse(started.detail!) as { pairingId: string };
    const run = startScriptAs(user.uid, scripts, 'pair', [agent.files.socket, user.name, '', pairingId]);
    try {
      expect(JSON.parse((await run.waitFor(/^finish /, 30_000)).slice(7))).toMatchObject({
        status: 'error',
        reason: 'pairing-unknown',
      });
    } finally {
      await run.stop();
    }
    expect(await agent.ask({ op: 'pair-finish', user: user.name, pairingId, wait: 1_000 })).toMatchObject({
      status: 'error',
      reason: 'pairing-timeout',
    });
  });

  it('refuses a name that is no user here, even for root, as ble-pair does', async () => {
    expect(await agent.ask({ op: 'pair', user: 'no-such-user-latchkey' })).toMatchObject({
      status: 'error',
      reason: 'unknown-user',
    });
  });

  it('with self-pairing off in the Workstation Settings, U cannot pair even with the password; root still can', async () => {
    await putSettings(cc, { offlineMode: true, pinCount: 10, selfPairing: false });
    await eventually(
      'the signed policy with selfPairing off',
      async () => {
        const { start } = await pairAsUser(user.password);
        return start.status === 'error' && start.reason === 'permission-denied' ? start : undefined;
      },
      40_000,
    ).then((start) => expect(start.message).toContain('your administrator has turned off pairing phones yourself'));
    expect((await auditLines()).at(-1)).toMatchObject({
      event: 'pairing',
      user: user.name,
      result: 'refused',
      reason: 'self-pairing-off',
    });
    const byRoot = await agent.ask({ op: 'pair', user: user.name });
    expect(byRoot).toMatchObject({ status: 'ok' });
    expect((await auditLines()).at(-1)).toMatchObject({
      event: 'pairing',
      user: user.name,
      result: 'started',
      reason: 'by-root',
      peer: expect.objectContaining({ uid: 0 }),
    });
  }, 90_000);
});
