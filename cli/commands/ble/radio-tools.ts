/**
 * The radio tools that work without the agent, on an adapter of their own with development
 * pairing files (docs/ble-dongles.md): `latchkey ble scan`, `ble test --pairing` and
 * `ble dev-pairing`. Each resolves with its exit code; a failure throws (cli/commands/ble/
 * adapter-options.ts reports it).
 */
import { writeFileSync } from 'node:fs';
import { randomBytes } from '../../../protocol/crypto/hashes.js';
import { WorkstationCentral } from '../../../ble/central.js';
import { readWorkstationPairingFiles } from '../../../ble/pairing-file.js';
import { identityFromSeed } from '../../../ble/protocol/pairing-records.js';
import type { BleTransport } from '../../../ble/stack.js';
import { toHex } from '../../../protocol/bytes.js';
import { integerIn } from './option-values.js';
import { UnlockTally } from './unlock-summary.js';

export interface UnlockTestFlags {
  readonly pairing: readonly string[];
  readonly count: number;
  readonly budget?: string;
  readonly minRssi?: string;
  readonly proofDeadline?: string;
  readonly mtu?: string;
  readonly json?: boolean;
}

/** `ble test --pairing FILE…`: repeated unlocks on the adapter; exit 0 only if every unlock succeeded. */
export async function runBleUnlockTest(transport: BleTransport, flags: UnlockTestFlags): Promise<number> {
  const minRssi = flags.minRssi === 'off' ? null : integerIn('--min-rssi', flags.minRssi, -80, -127, 20);
  const budgetMs = integerIn('--budget', flags.budget, 10_000, 100, 120_000);
  const central = await WorkstationCentral.open({
    transport,
    pairings: readWorkstationPairingFiles(flags.pairing),
    minRssi,
    proofDeadlineMs: integerIn('--proof-deadline', flags.proofDeadline, 300, 1, 60_000),
    ...(flags.mtu !== undefined && { mtu: integerIn('--mtu', flags.mtu, 256, 23, 517) }),
  });
  const tally = new UnlockTally(flags.count);
  try {
    for (let i = 1; i <= flags.count; i++) {
      const result = await central.unlock({ budgetMs });
      tally.record(i, result.ok ? { ok: true, ms: result.timings.totalMs } : { ok: false, code: result.code });
    }
  } finally {
    central.close();
  }
  return tally.print(flags.json ?? false);
}

/** `ble scan [--pairing FILE]… [--seconds N]`: the Latchkey phones in range, and which pairing each tag belongs to. */
export async function runBleScan(
  transport: BleTransport,
  flags: { pairing?: readonly string[]; seconds: string },
): Promise<number> {
  const seconds = integerIn('--seconds', flags.seconds, 5, 1, 600);
  const pairings = flags.pairing ? readWorkstationPairingFiles(flags.pairing) : [];
  const central = await WorkstationCentral.open({ transport, pairings });
  const seen = new Map<string, string>();
  try {
    await central.scan(seconds * 1000, (s) => {
      const line = `${s.address} (${s.addressType}) ${s.rssi} dBm ${s.pairingId ? `paired: ${s.pairingId}` : 'a Latchkey phone, not paired here'}`;
      if (seen.get(s.address) !== line) process.stdout.write(`${line}\n`);
      seen.set(s.address, line);
    });
  } finally {
    central.close();
  }
  if (seen.size === 0) process.stdout.write('no Latchkey phone in range\n');
  return 0;
}

/**
 * `ble dev-pairing --workstation FILE --phone FILE [--id ID] [--name NAME]`: a matching pair of
 * development pairing files with fresh keys (mode 0600), for the tools above and the phone's
 * `ble serve --pairing`.
 */
export async function runBleDevPairing(flags: {
  workstation: string;
  phone: string;
  id?: string;
  name?: string;
}): Promise<number> {
  const pairingKey = toHex(randomBytes(32));
  const workstation = identityFromSeed(randomBytes(32));
  const phone = identityFromSeed(randomBytes(32));
  const id = flags.id ?? 'dev-phone';
  const write = (path: string, record: object) =>
    writeFileSync(path, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  write(flags.workstation, {
    role: 'workstation',
    id,
    pairingKey,
    identityPrivateKey: toHex(workstation.privateKey),
    peerPublicKey: toHex(phone.publicKey),
  });
  write(flags.phone, {
    role: 'phone',
    id: `${id}-workstation`,
    pairingKey,
    identityPrivateKey: toHex(phone.privateKey),
    peerPublicKey: toHex(workstation.publicKey),
    workstationName: flags.name ?? 'this workstation',
  });
  process.stdout.write(`wrote ${flags.workstation} (workstation side) and ${flags.phone} (phone side)\n`);
  return 0;
}
