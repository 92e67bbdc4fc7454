/**
 * The phone's credential key and its release over Bluetooth (docs/windows.md §6.3, §6.5;
 * docs/ble-protocol.md §5.1, §12) with the real parts: the virtual controller as a process on
 * ptys, the agent (in this process) on the workstation port, and `latchkey phone` CLI processes
 * pairing and serving on the phone port. Pairing leaves CK.pub on the agent's blePhones[] record
 * and CK sealed in the vault; ble-auth asked for the credential (as a Windows lock screen from
 * SYSTEM will) gets k in PROOF and hands back the logon credential in `secret`; asked without,
 * nothing. Neither the password nor k reaches a log, an output, the vault or the state.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BleOps } from '../../agent/ble/ble-ops.js';
import { BleRadio } from '../../agent/ble/ble-radio.js';
import { resolveAgentConfig } from '../../agent/config.js';
import { KeyedMutex } from '../../agent/keyed-mutex.js';
import type { WindowsCredentialState } from '../../agent/state/windows-credential.js';
import { AuditLog } from '../../agent/state/audit-log.js';
import type { UserStateStore } from '../../agent/state/user-state-store.js';
import { FileVaultStore } from '../../phone/cli/vault-file.js';
import { loadCredentialKey } from '../../phone/core/credential-key.js';
import { systemClock } from '../../platform/clock.js';
import { createLogger } from '../../platform/log.js';
import { copyKeyFor } from '../../protocol/credential-wrap.js';
import { fromBase64url } from '../../protocol/online/base64url.js';
import { decodeLogonCredential, utf16le } from '../../protocol/windows-logon-credential.js';
import { BlePhoneProcess, pairOverBluetooth } from '../helpers/ble-stack.js';
import { agentStateStore, expectCredentialKeyPaired, expectNoSecrets } from '../helpers/phone-release.js';
import { haystacksUnder, keepCredentialInState, phoneCopyAtRest } from '../helpers/phone-release.js';
import { bleReleaseSetForSuite } from '../helpers/phone-release-fixture.js';

const USER = 'daemon';
const PASSWORD = 'Bluetooth ☃ pässword 42';
const SID = 'S-1-5-21-1004336348-1177238915-682003330-1002';
const set = bleReleaseSetForSuite({ tempPrefix: 'latchkey-ble-release-', phoneName: 'Ana phone' });
let serving: BlePhoneProcess | null = null;
let radio: BleRadio | null = null;
const testLog: string[] = [];

function realStore(): UserStateStore {
  return agentStateStore(set.agent.files);
}

async function vault() {
  const passphrase = (await fs.readFile(set.phone.passphraseFile, 'utf8')).split('\n')[0]!;
  return (await FileVaultStore.open(set.phone.home, new TextEncoder().encode(passphrase))).read();
}

/** The agent's BLE half over its own sealed state, holding `credential` (the agent process stopped: it writes no more). */
async function bleOps(credential: WindowsCredentialState) {
  const log = createLogger({ level: 'debug', write: (line) => testLog.push(line) });
  const store = await keepCredentialInState(realStore(), USER, credential);
  const config = resolveAgentConfig(
    JSON.parse(await fs.readFile(set.agent.files.configFile, 'utf8')),
    set.agent.files.configFile,
  );
  if (radio) await set.stack.stopNow(radio); // one central on the workstation port at a time
  radio = set.stack.stop(new BleRadio(config.ble, log), (r) => r.close());
  return new BleOps({
    config: config.ble,
    store,
    mutex: new KeyedMutex(),
    audit: new AuditLog(path.join(set.dir, 'ble-release-audit.jsonl'), log),
    log,
    clock: systemClock,
    workstationName: () => 'ws-ble',
    radio,
  });
}

describe("the phone's credential key over Bluetooth (docs/windows.md §6.3)", () => {
  it('pairing through the agent keeps CK.pub on the blePhones[] record and CK sealed in the vault', async () => {
    set.outputs.push(await pairOverBluetooth(set.agent.files.socket, USER, set.phone, set.controller.ports.phone!));
    const record = (await realStore().read(USER))!.blePhones[0]!;
    const pairing = (await vault()).blePairings![0]!;
    expect(record.deviceId).toBe(pairing.id);
    await expectCredentialKeyPaired(record.credentialKey, pairing.credentialKey, set.phone.home);
    // From here the test is the agent at a Windows lock screen: the agent frees the radio.
    await set.stack.stopNow(set.agent);
  }, 120_000);
});

describe('the release over Bluetooth (docs/windows.md §6.5)', () => {
  it('ble-auth asked for the credential gets k in PROOF and answers the logon credential in secret', async () => {
    const record = (await realStore().read(USER))!.blePhones[0]!;
    const phoneCopy = await phoneCopyAtRest(fromBase64url(record.credentialKey!), PASSWORD, {
      sid: SID,
      generation: 1,
      deviceId: record.deviceId,
    });
    const credential: WindowsCredentialState = {
      sid: SID,
      domain: 'DESK-042',
      user: USER,
      generation: 1,
      copies: [phoneCopy],
    };
    const ck = await loadCredentialKey((await vault()).blePairings![0]!.credentialKey);
    set.copyKeys.push((await copyKeyFor(ck!, phoneCopy.eph))!);

    serving = set.stack.stop(await BlePhoneProcess.start(set.phone, set.controller.ports.phone!), (s) => s.stop());
    const ops = await bleOps(credential);
    const peer = { pid: process.pid, uid: 0 };
    const session = serving.nextSession(20_000);
    const released = await ops.auth(USER, 8_000, 'test', peer, true);
    expect(released.status, released.message).toBe('accepted');
    const decoded = decodeLogonCredential(released.secret!);
    if (!decoded.ok) throw new Error(decoded.message);
    expect([decoded.credential.domain, decoded.credential.user]).toEqual(['DESK-042', USER]);
    expect(Buffer.from(decoded.credential.password).equals(Buffer.from(utf16le(PASSWORD)))).toBe(true);
    expect(await session).toMatch(/^Unlocked/);

    // Asked without (Linux, or any caller but SYSTEM at a lock screen): the plain unlock, nothing released.
    const plain = await ops.auth(USER, 8_000, 'test', peer);
    expect(plain.status, plain.message).toBe('accepted');
    expect(plain.secret).toBeUndefined();

    // A copy that does not match its binding (a newer generation recorded) gives no credential.
    const stale = await bleOps({ ...credential, generation: 2 });
    const refused = await stale.auth(USER, 8_000, 'test', peer, true);
    expect(refused.status).toBe('accepted');
    expect(refused.secret).toBeUndefined();
    expect(testLog.join('\n')).toContain('ble-auth.no-credential');
  }, 120_000);

  it('a phone whose pairing has no credential key answers 0x07, and the agent unlocks without a release', async () => {
    // As a phone paired before credential keys: its vault's pairing holds none.
    await serving?.stop();
    const passphrase = (await fs.readFile(set.phone.passphraseFile, 'utf8')).split('\n')[0]!;
    const store = await FileVaultStore.open(set.phone.home, new TextEncoder().encode(passphrase));
    await store.update((state) => {
      for (const pairing of state.blePairings ?? []) delete pairing.credentialKey;
    });
    serving = set.stack.stop(await BlePhoneProcess.start(set.phone, set.controller.ports.phone!), (s) => s.stop());
    const record = (await realStore().read(USER))!.blePhones[0]!;
    const copy = await phoneCopyAtRest(fromBase64url(record.credentialKey!), PASSWORD, {
      sid: SID,
      generation: 1,
      deviceId: record.deviceId,
    });
    const ops = await bleOps({ sid: SID, domain: 'DESK-042', user: USER, generation: 1, copies: [copy] });
    const refused = serving.nextSession(20_000);
    const unlocked = await ops.auth(USER, 8_000, 'test', { pid: process.pid, uid: 0 }, true);
    expect(await refused).toMatch(/^An unlock did not finish: unsupported-request/);
    expect(unlocked.status, unlocked.message).toBe('accepted');
    expect(unlocked.secret).toBeUndefined();
  }, 120_000);

  it('neither the password nor k reaches a log, an output, the vault or the state', async () => {
    expect(set.copyKeys).toHaveLength(1);
    const haystacks: [string, Buffer][] = [
      ['the agent log', Buffer.from(set.agent.logLines.join('\n'))],
      ["the release's log", Buffer.from(testLog.join('\n'))],
      [
        'the phone output',
        Buffer.from(set.outputs.map((o) => o.stdout + o.stderr).join('\n') + (serving?.output ?? '')),
      ],
      ['the controller', Buffer.from(set.controller.stderr())],
      ['vault', await fs.readFile(path.join(set.phone.home, 'vault.json'))],
    ];
    haystacks.push(...(await haystacksUnder(set.dir)));
    expect(haystacks.some(([name]) => name.endsWith('.journal'))).toBe(true);
    expectNoSecrets(haystacks, [new TextEncoder().encode(PASSWORD), utf16le(PASSWORD), ...set.copyKeys]);
  });
});
