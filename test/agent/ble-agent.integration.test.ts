// The agent's Bluetooth operations (docs/ipc.md ops 11–14) over its real socket, with the real
// noble in the agent and the real bleno as the phone, on one in-process virtual controller:
// pairing with a right, wrong, reused and expired code; unlock, its audit entry and the cleared
// anti-hammering; decline and the pause that follows; unpairing; Bluetooth turned off.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PhonePeripheral } from '../../ble/peripheral.js';
import { deriveCodeKey, parseBlePairingCode } from '../../ble/protocol/pairing-code.js';
import type { PairedPeer } from '../../ble/protocol/pairing-handshake.js';
import { identityFromSeed, type Ed25519Identity, type PhonePairing } from '../../ble/protocol/pairing-records.js';
import { ErrorCode } from '../../ble/protocol/message-codec.js';
import { countRoundTrips, VirtualController } from '../../ble/virtual-controller/index.js';
import { ManualClock } from '../../platform/clock.js';
import { enroll, makeTempDir, startInProcessAgent, verifyWith, writeAgentConfig } from '../helpers/agent-harness.js';
import type { InProcessAgent } from '../helpers/agent-harness.js';

const USER = 'root'; // a user that exists on every machine (enroll checks it)
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Setup {
  agent: InProcessAgent;
  readonly controller: VirtualController;
  readonly clock: ManualClock;
  /** Stops the agent and starts it again on the same state directory and controller port. */
  restart(): Promise<void>;
}

/** The lock screen asks for a Bluetooth unlock of USER, waiting up to `wait` ms. */
const bleAuth = (s: Setup, wait: number) => s.agent.ask({ op: 'ble-auth', user: USER, context: 'test', wait });

async function setup(ble: Record<string, unknown> = {}): Promise<Setup> {
  const dir = await makeTempDir('latchkey-ble-agent-');
  const files = await writeAgentConfig(
    dir,
    { offlineMode: true, pinCount: 10 },
    { ble: { enabled: true, budgetMs: 3_000, ...ble } },
  );
  const controller = new VirtualController({ advertisingIntervalMs: 20 });
  controller.addPort('phone');
  controller.addPort('workstation');
  cleanups.push(() => controller.close());
  const clock = new ManualClock({ wallMs: Date.now() });
  const start = () =>
    startInProcessAgent(files, { clock, bleTransport: { kind: 'virtual', controller, port: 'workstation' } });
  const s: Setup = {
    agent: await start(),
    controller,
    clock,
    async restart() {
      await s.agent.close();
      s.agent = await start();
    },
  };
  cleanups.push(() => s.agent.close());
  return s;
}

async function showCode(agent: InProcessAgent): Promise<{ code: string; pairingId: string }> {
  const reply = await agent.ask({ op: 'ble-pair', user: USER });
  expect(reply.status, reply.message).toBe('ok');
  const code = Buffer.from(reply.secret!).toString('utf8');
  return { code, pairingId: (JSON.parse(reply.detail!) as { pairingId: string }).pairingId };
}

/** The phone waiting with a typed code; resolves what it stored. */
async function phoneTyping(controller: VirtualController, typed: string) {
  const parsed = parseBlePairingCode(typed)!;
  const identity = identityFromSeed(new Uint8Array(randomBytes(32)));
  const stored: PairedPeer[] = [];
  const phone = await PhonePeripheral.startPairing({
    transport: { kind: 'virtual', controller, port: 'phone' },
    setup: {
      pairingId: parsed.pairingId,
      codeKey: await deriveCodeKey(parsed.pairingId, parsed.secret),
      identity,
      name: 'Test phone',
    },
    store: async (peer) => {
      stored.push(peer);
      return true;
    },
  });
  cleanups.push(() => phone.stop());
  return { phone, identity, stored };
}

async function pairPhone(
  s: Setup,
): Promise<{ identity: Ed25519Identity; pairing: PhonePairing; deviceId: string; code: string }> {
  const { code, pairingId } = await showCode(s.agent);
  const { phone, identity, stored } = await phoneTyping(s.controller, code);
  const finished = await s.agent.ask({ op: 'ble-pair-finish', user: USER, pairingId, wait: 5_000 }, 15_000);
  expect(finished.status, finished.message).toBe('ok');
  await phone.stop();
  const peer = stored[0]!;
  return {
    identity,
    code,
    deviceId: `ble-${pairingId}`,
    pairing: {
      id: 'ws',
      pairingKey: peer.pairingKey,
      phoneIdentity: identity,
      workstationPublicKey: peer.peerPublicKey,
      workstationName: peer.peerName,
    },
  };
}

async function serve(controller: VirtualController, pairing: PhonePairing, approve = true): Promise<PhonePeripheral> {
  const phone = await PhonePeripheral.start({
    transport: { kind: 'virtual', controller, port: 'phone' },
    pairings: [pairing],
    approve: async () => approve,
  });
  cleanups.push(() => phone.stop());
  return phone;
}

async function auditLines(
  agent: InProcessAgent,
): Promise<
  { event: string; result: string; reason: string | null; authenticatorId: string | null; context: string | null }[]
> {
  const text = await fs.readFile(path.join(agent.files.auditLog), 'utf8').catch(() => '');
  return text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

describe('BLE pairing through the agent', () => {
  it('pairs with the right code: the phone shows "USER on HOST", status lists the phone and sets the ble flag', async () => {
    const s = await setup();
    const { pairing, deviceId, code } = await pairPhone(s);
    expect(pairing.workstationName).toMatch(new RegExp(`^${USER} on `));
    // Neither the code's secret nor the keys it made reach the log, in any encoding.
    const log = s.agent.logLines.join('\n');
    const key = Buffer.from(pairing.pairingKey);
    for (const secret of [
      code.slice(6),
      code.slice(6).replaceAll('-', ''),
      key.toString('hex'),
      key.toString('base64url'),
      key.toString('base64'),
    ])
      expect(log).not.toContain(secret);
    const status = await s.agent.ask({ op: 'status', user: USER });
    expect(status.ble).toBe(true);
    expect(JSON.parse(status.detail!).blePhones).toEqual([expect.objectContaining({ deviceId, name: 'Test phone' })]);
    expect((await auditLines(s.agent)).find((e) => e.event === 'pairing')).toMatchObject({
      result: 'ok',
      authenticatorId: deviceId,
      context: 'ble',
    });
    // The state holds the keys sealed: no key material in the clear on disk.
    const stateFiles = await fs.readdir(path.join(s.agent.files.stateDir, 'users'));
    for (const file of stateFiles)
      expect(
        (await fs.readFile(path.join(s.agent.files.stateDir, 'users', file))).includes(Buffer.from('blePhones')),
      ).toBe(false);
  });

  it('refuses a wrong code (the phone hears it was refused), and the code stays usable with the right one', async () => {
    const s = await setup();
    const { code, pairingId } = await showCode(s.agent);
    const last = code.at(-1) === '0' ? '1' : '0';
    const wrong = await phoneTyping(s.controller, `${code.slice(0, -1)}${last}`);
    const refusal = wrong.phone.nextPairing(10_000);
    const finished = await s.agent.ask({ op: 'ble-pair-finish', user: USER, pairingId, wait: 1_500 }, 10_000);
    expect(finished).toMatchObject({ status: 'error', reason: 'pairing-timeout' });
    expect(finished.message).toMatch(/wrong code/);
    expect(await refusal).toMatchObject({ ok: false, code: 'peer-error', peerCode: ErrorCode.pairingRefused });
    expect(wrong.stored).toHaveLength(0);
    await wrong.phone.stop();
    expect(
      (await auditLines(s.agent)).some(
        (e) => e.event === 'pairing' && e.result === 'rejected' && e.reason === 'pairing-mac',
      ),
    ).toBe(true);
    const right = await phoneTyping(s.controller, code);
    expect((await s.agent.ask({ op: 'ble-pair-finish', user: USER, pairingId, wait: 5_000 }, 15_000)).status).toBe(
      'ok',
    );
    expect(right.stored).toHaveLength(1);
  });

  it('burns a code after five wrong tries; the right code then no longer works', async () => {
    const s = await setup();
    const { code, pairingId } = await showCode(s.agent);
    const finishing = s.agent.ask({ op: 'ble-pair-finish', user: USER, pairingId, wait: 20_000 }, 30_000);
    for (let attempt = 1; attempt <= 5; attempt++) {
      // Each time the person retypes the code wrongly; a refused phone stops advertising.
      const wrong = await phoneTyping(s.controller, `${code.slice(0, -1)}${code.at(-1) === '0' ? '1' : '0'}`);
      expect(await wrong.phone.nextPairing(10_000)).toMatchObject({ ok: false, peerCode: ErrorCode.pairingRefused });
      await wrong.phone.stop();
    }
    const finished = await finishing;
    expect(finished).toMatchObject({ status: 'error', reason: 'pairing-expired' });
    expect(finished.message).toMatch(/5 times/);
    expect(await s.agent.ask({ op: 'ble-pair-finish', user: USER, pairingId, wait: 500 })).toMatchObject({
      status: 'error',
      reason: 'pairing-unknown',
    });
  }, 30_000);

  it('does not answer a reused code, and refuses an expired one', async () => {
    const s = await setup();
    const first = await showCode(s.agent);
    const phone = await phoneTyping(s.controller, first.code);
    expect(
      (await s.agent.ask({ op: 'ble-pair-finish', user: USER, pairingId: first.pairingId, wait: 5_000 }, 15_000))
        .status,
    ).toBe('ok');
    await phone.phone.stop();
    const again = await phoneTyping(s.controller, first.code);
    expect(
      await s.agent.ask({ op: 'ble-pair-finish', user: USER, pairingId: first.pairingId, wait: 1_000 }),
    ).toMatchObject({ status: 'error', reason: 'pairing-unknown' });
    await expect(again.phone.nextPairing(1_000)).rejects.toThrow(/no phone pairing ended/);
    await again.phone.stop();

    const second = await showCode(s.agent);
    await phoneTyping(s.controller, second.code);
    s.clock.advance(10 * 60_000 + 1);
    expect(
      await s.agent.ask({ op: 'ble-pair-finish', user: USER, pairingId: second.pairingId, wait: 3_000 }),
    ).toMatchObject({ status: 'error', reason: 'pairing-expired' });
  });
});

describe('BLE unlock through the agent (op 11)', () => {
  it('unlocks with the paired phone, audits it, and clears failed PIN attempts like an online sign-in', async () => {
    const s = await setup();
    await enroll(s.agent.ask, USER);
    for (let i = 0; i < 2; i++) expect((await verifyWith(s.agent.ask, USER, `WRONG${i}AAA`)).status).toBe('rejected');
    expect(JSON.parse((await s.agent.ask({ op: 'status', user: USER })).detail!).failures).toBe(2);
    const { pairing, deviceId } = await pairPhone(s);
    await serve(s.controller, pairing);
    const reply = await s.agent.ask({ op: 'ble-auth', user: USER, context: 'test:ble', wait: 3_000 });
    expect(reply).toMatchObject({ status: 'accepted', message: expect.stringMatching(/unlocked/) });
    expect(JSON.parse((await s.agent.ask({ op: 'status', user: USER })).detail!).failures).toBe(0);
    expect((await auditLines(s.agent)).at(-1)).toMatchObject({
      event: 'ble-auth',
      result: 'accepted',
      authenticatorId: deviceId,
      context: 'test:ble',
    });
    // After the phone's address rotates, the agent still finds it (complaint 6).
    s.controller.rotateAddress('phone');
    expect((await bleAuth(s, 3_000)).status).toBe('accepted');
  });

  it('a decline is rejected, and the lock screen skips Bluetooth for this user for a while', async () => {
    const s = await setup();
    const { pairing } = await pairPhone(s);
    await serve(s.controller, pairing, false);
    expect(await bleAuth(s, 3_000)).toMatchObject({ status: 'rejected', reason: 'declined' });
    expect((await s.agent.ask({ op: 'status', user: USER })).ble).toBe(false);
    expect((await auditLines(s.agent)).at(-1)).toMatchObject({
      event: 'ble-auth',
      result: 'rejected',
      reason: 'declined',
    });
  });

  it('no phone in range is unavailable within the budget; an unpaired phone is never used', async () => {
    const s = await setup({ budgetMs: 800 });
    const { pairing } = await pairPhone(s);
    const started = performance.now();
    expect(await bleAuth(s, 5_000)).toMatchObject({ status: 'unavailable', reason: 'timeout' });
    expect(performance.now() - started).toBeLessThan(3_000);
    // A phone with another pairing key (not paired here) advertises: nothing connects to it.
    await serve(s.controller, { ...pairing, pairingKey: new Uint8Array(randomBytes(32)) });
    const before = s.controller.connections.length;
    expect(await bleAuth(s, 5_000)).toMatchObject({ status: 'unavailable', reason: 'timeout' });
    expect(s.controller.connections.length).toBe(before);
  });

  it('unpairing on the workstation stops the phone from unlocking', async () => {
    const s = await setup();
    const { pairing, deviceId } = await pairPhone(s);
    await serve(s.controller, pairing);
    expect(await s.agent.ask({ op: 'ble-unpair', user: USER, authenticator: deviceId })).toMatchObject({
      status: 'ok',
    });
    expect((await s.agent.ask({ op: 'status', user: USER })).ble).toBe(false);
    expect(await bleAuth(s, 1_000)).toMatchObject({ status: 'unavailable', reason: 'no-phone' });
    expect(await s.agent.ask({ op: 'ble-unpair', user: USER })).toMatchObject({
      status: 'error',
      reason: 'not-enrolled',
    });
    expect(await s.agent.ask({ op: 'ble-pair', user: 'no-such-user-latchkey' })).toMatchObject({
      status: 'error',
      reason: 'unknown-user',
    });
  });

  it('the first unlock after pairing skips GATT discovery with the handles pairing found (4 ATT round trips, not 10), after a restart too', async () => {
    const s = await setup();
    const { pairing, deviceId } = await pairPhone(s);
    await serve(s.controller, pairing);
    const roundTrips = async () => {
      const before = s.controller.connections.length;
      expect(await bleAuth(s, 3_000)).toMatchObject({ status: 'accepted' });
      const connections = s.controller.connections.slice(before);
      expect(connections).toHaveLength(1);
      return countRoundTrips(connections[0]!.att);
    };
    // MTU exchange + the cached CCCD write, then HELLO→READY and CHALLENGE→PROOF (docs/ble-protocol.md §3, §9).
    expect(await roundTrips()).toBe(4);
    // The handles live in the phone's sealed record, so a restarted agent skips discovery as well.
    await s.restart();
    expect(await roundTrips()).toBe(4);
    expect((await auditLines(s.agent)).filter((e) => e.event === 'ble-auth').map((e) => e.authenticatorId)).toEqual([
      deviceId,
      deviceId,
    ]);
  });

  it('with ble.enabled false there is no flag, no pairing and no radio', async () => {
    const s = await setup({ enabled: false });
    expect((await s.agent.ask({ op: 'status', user: USER })).ble).toBe(false);
    expect(await bleAuth(s, 1_000)).toMatchObject({ status: 'unavailable', reason: 'ble-off' });
    expect(await s.agent.ask({ op: 'ble-pair', user: USER })).toMatchObject({
      status: 'unavailable',
      reason: 'ble-off',
    });
    expect(s.agent.logLines.some((line) => line.includes('ble.adapter-open'))).toBe(false);
  });
});
