/**
 * `latchkey phone … ble …`: the phone over Bluetooth (docs/ble-protocol.md, docs/phone.md "BLE").
 * Pairing keys live in the phone's encrypted vault, next to its online pairings. Each action
 * resolves with an exit code; the command layer ends the process, because bleno keeps polling
 * its adapter after it stops.
 */
import { createInterface } from 'node:readline';
import { randomBytes } from '../../protocol/crypto/hashes.js';
import { PairingFileError } from '../../ble/errors.js';
import { readPhonePairingFiles } from '../../ble/pairing-file.js';
import { PhonePeripheral } from '../../ble/peripheral.js';
import { deriveCodeKey, parseBlePairingCode } from '../../ble/protocol/pairing-code.js';
import { identityFromSeed, type PhonePairing } from '../../ble/protocol/pairing-records.js';
import { labelNames } from '../../ble/protocol/workstation-label.js';
import { ErrorCode } from '../../ble/protocol/message-codec.js';
import type { BleTransport } from '../../ble/stack.js';
import { wipe } from '../../protocol/bytes.js';
import { fromBase64urlOfLength, toBase64url } from '../../protocol/online/base64url.js';
import { loadCredentialKey, newCredentialKey } from '../core/credential-key.js';
import { copyKeyFor } from '../../protocol/credential-wrap.js';
import type { CopyKeySource } from '../../ble/phone-session.js';
import { PhoneError } from '../core/errors.js';
import type { BlePairing } from '../core/phone-state.js';
import { CliError } from '../../platform/exit-codes.js';
import { PHONE_EXIT } from './exit-codes.js';
import { openPhone, type GlobalOptions } from './open-phone.js';

type Print = (line: string) => void;
const print: Print = (line) => process.stdout.write(`${line}\n`);

async function startRadio<T>(start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    if ((error as { code?: string }).code === 'adapter-unavailable')
      throw new PhoneError('bluetooth-unavailable', `Bluetooth is not available: ${(error as Error).message}.`, {
        cause: error,
      });
    throw error;
  }
}

/** `ble pair CODE`: waits near the workstation showing CODE, and keeps the pairing in the vault. */
export async function runBlePair(
  global: GlobalOptions,
  typed: string,
  transport: BleTransport,
  waitSeconds: number,
): Promise<number> {
  const parsed = parseBlePairingCode(typed);
  if (parsed === null)
    throw new PhoneError(
      'bad-pairing-code',
      'That is not a pairing code: it has 17 letters and digits, shown as XXXXX-XXXX-XXXX-XXXX on the workstation.',
    );
  const { store } = await openPhone(global);
  const state = await store.read();
  const id = `ble-${parsed.pairingId}`;
  const seed = randomBytes(32);
  const codeKey = await deriveCodeKey(parsed.pairingId, parsed.secret);
  // One credential key per pairing (docs/windows.md §6.3): its public half goes in PAIR-READY.
  const credentialKey = await newCredentialKey();
  const phone = await startRadio(() =>
    PhonePeripheral.startPairing({
      transport,
      setup: {
        pairingId: parsed.pairingId,
        codeKey,
        identity: identityFromSeed(seed),
        name: state.device.name,
        credentialKey: fromBase64urlOfLength(credentialKey.public, 32, 'credentialKey'),
      },
      store: async (peer) => {
        const record: BlePairing = {
          id,
          workstationName: peer.peerName || 'a workstation',
          pairingKey: toBase64url(peer.pairingKey),
          identitySeed: toBase64url(seed),
          workstationKey: toBase64url(peer.peerPublicKey),
          pairedAt: Date.now(),
          credentialKey,
        };
        await store.update((draft) => {
          draft.blePairings = [...(draft.blePairings ?? []).filter((p) => p.id !== id), record];
        });
        return true;
      },
    }),
  );
  print(`Waiting up to ${waitSeconds} s for the workstation showing ${parsed.pairingId}-… — keep this phone near it.`);
  const deadline = Date.now() + waitSeconds * 1000;
  try {
    // A broken link or a stranger's attempt is not the end: keep waiting for the workstation.
    for (;;) {
      const outcome = await phone.nextPairing(Math.max(0, deadline - Date.now())).catch(() => null);
      if (outcome === null)
        throw new PhoneError(
          'pairing-timeout',
          'No workstation showing this code came near. Check that "latchkey ble pair" is still waiting there, then try again.',
        );
      if (outcome.ok) {
        print(`Paired over Bluetooth with ${outcome.peer.peerName} (${id}).`);
        return PHONE_EXIT.ok;
      }
      if (outcome.code === 'peer-error' && outcome.peerCode === ErrorCode.pairingRefused)
        throw new PhoneError('pairing-refused', 'The workstation refused this code — check it and type it again.');
      if (outcome.code === 'pairing-not-stored')
        throw new PhoneError('vault-malformed', 'The pairing could not be saved in the vault; nothing was paired.');
    }
  } finally {
    wipe(seed, codeKey);
    await phone.stop();
  }
}

function phonePairings(records: readonly BlePairing[]): PhonePairing[] {
  return records.map((r) => ({
    id: r.id,
    pairingKey: fromBase64urlOfLength(r.pairingKey, 32, 'pairingKey'),
    phoneIdentity: identityFromSeed(fromBase64urlOfLength(r.identitySeed, 32, 'identitySeed')),
    workstationPublicKey: fromBase64urlOfLength(r.workstationKey, 32, 'workstationKey'),
    workstationName: r.workstationName,
    ...(r.credentialKey && { credentialKey: fromBase64urlOfLength(r.credentialKey.public, 32, 'credentialKey') }),
  }));
}

/** k for request 0x02 from the pairing's credential key, kept sealed in the vault (docs/windows.md §6.5). */
function copyKeySource(records: readonly BlePairing[]): CopyKeySource {
  return async (pairingId, copyEph) => {
    const ck = await loadCredentialKey(records.find((r) => r.id === pairingId)?.credentialKey);
    return ck === null ? null : copyKeyFor(ck, copyEph);
  };
}

function askOnTerminal(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return Promise.resolve(false);
  const lines = createInterface({ input: process.stdin, output: process.stdout });
  return new Promise((resolve) =>
    lines.question(`${question} [y/N] `, (answer) => {
      lines.close();
      resolve(/^y(es)?$/i.test(answer.trim()));
    }),
  );
}

export interface BleServeFlags {
  readonly autoApprove?: boolean;
  /** Stop after this many sessions (0: never). */
  readonly count: number;
  /** Stop after this many seconds (0: never). */
  readonly timeout: number;
  /** Development pairing files to serve instead of the vault's pairings (docs/ble-dongles.md "Pairing"). */
  readonly pairing?: readonly string[];
}

/** The pairings to serve: the vault's, or with --pairing the phone sides of development pairing files (no vault needed). */
async function servedPairings(
  global: GlobalOptions,
  files: readonly string[] | undefined,
): Promise<{ pairings: PhonePairing[]; copyKey?: CopyKeySource }> {
  if (files !== undefined) {
    try {
      return { pairings: readPhonePairingFiles(files) };
    } catch (error) {
      // The file stands in for the vault: the vault's exit code (docs/phone.md "CLI").
      if (error instanceof PairingFileError) throw new CliError(error.message, PHONE_EXIT.vault);
      throw error;
    }
  }
  const { store } = await openPhone(global);
  const records = (await store.read()).blePairings ?? [];
  if (records.length === 0)
    throw new PhoneError(
      'unknown-workstation',
      'This phone is paired with no workstation over Bluetooth — run "latchkey ble pair --user USER" there, then "latchkey phone ble pair CODE" here.',
    );
  return { pairings: phonePairings(records), copyKey: copyKeySource(records) };
}

/** `ble serve`: advertises the rotating tags of its BLE pairings and answers unlocks until stopped. */
export async function runBleServe(
  global: GlobalOptions,
  transport: BleTransport,
  flags: BleServeFlags,
): Promise<number> {
  const { pairings, copyKey } = await servedPairings(global, flags.pairing);
  let served = 0;
  try {
    const phone = await startRadio(() =>
      PhonePeripheral.start({
        transport,
        pairings,
        approve: async ({ workstationName }) =>
          flags.autoApprove === true || askOnTerminal(`Unlock ${workstationName ?? 'the workstation'}?`),
        ...(copyKey && { copyKey }),
      }),
    );
    print(`Serving ${pairings.length} Bluetooth pairing${pairings.length === 1 ? '' : 's'} on ${phone.address}.`);
    try {
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        if (flags.timeout > 0) setTimeout(stop, flags.timeout * 1000).unref();
        phone.on('session', (outcome) => {
          served += 1;
          const name = outcome.ok ? pairings.find((p) => p.id === outcome.pairingId)?.workstationName : undefined;
          print(
            outcome.ok
              ? outcome.accepted
                ? `Unlocked ${name ?? 'the workstation'}.`
                : `${name ?? 'The workstation'} refused the unlock (verdict ${outcome.verdict}).`
              : `An unlock did not finish: ${outcome.code} — ${outcome.reason}`,
          );
          if (flags.count > 0 && served >= flags.count) stop();
        });
      });
    } finally {
      await phone.stop();
    }
  } finally {
    for (const pairing of pairings) wipe(pairing.pairingKey, pairing.phoneIdentity.privateKey);
  }
  return PHONE_EXIT.ok;
}

/**
 * `ble unpair WORKSTATION [--user U]`: forgets one Bluetooth pairing, named by its ble-… id, by
 * the label `ble list` shows ("alice on ws-1"), or by the workstation's name as `status` shows it
 * ("ws-1": one name per workstation, online and over Bluetooth); `--user` picks among several.
 */
export async function runBleUnpair(global: GlobalOptions, workstation: string, user?: string): Promise<number> {
  const { store } = await openPhone(global);
  const gone = await store.update((state) => {
    const all = state.blePairings ?? [];
    const matches = all.filter(
      (p) => (user === undefined && p.id === workstation) || labelNames(p.workstationName, workstation, user),
    );
    const called = user === undefined ? workstation : `${workstation} for ${user}`;
    if (matches.length === 0)
      throw new PhoneError(
        'unknown-workstation',
        `This phone has no Bluetooth pairing with ${called} (see "latchkey phone ble list").`,
      );
    if (matches.length > 1)
      throw new PhoneError(
        'ambiguous-workstation',
        `Several Bluetooth pairings are with ${called}; name one by its id, or the user with --user: ${matches.map((p) => `${p.id} (${p.workstationName})`).join(', ')}.`,
      );
    state.blePairings = all.filter((p) => p !== matches[0]);
    return matches[0]!;
  });
  print(`Forgot the Bluetooth pairing with ${gone.workstationName} (${gone.id}); this phone no longer unlocks it.`);
  print('On the workstation, "latchkey ble unpair --user USER --device ID" removes its side.');
  return PHONE_EXIT.ok;
}

/** `ble list`: the workstations this phone unlocks over Bluetooth. */
export async function runBleList(global: GlobalOptions): Promise<number> {
  const { store } = await openPhone(global);
  const records = (await store.read()).blePairings ?? [];
  if (records.length === 0) print('No workstation is paired over Bluetooth.');
  for (const r of records)
    print(`${r.id}  ${r.workstationName}  paired ${new Date(r.pairedAt).toISOString().slice(0, 10)}`);
  return PHONE_EXIT.ok;
}
