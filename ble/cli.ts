/**
 * Command-line entry points of the radio tools — `latchkey ble virtual-controller`, `scan`,
 * `test --pairing`, `dev-pairing` (cli/commands/ble.ts) — and the development phone
 * (`runBlePhone`, for pairing files): each takes argv after the subcommand name and an IO
 * object, and resolves with the exit code. Options are parsed strictly here (node:util parseArgs).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { WorkstationCentral } from './central.js';
import { BleTransportError } from './errors.js';
import { isWorkstationPairing, readPairingFile } from './pairing-file.js';
import { PhonePeripheral } from './peripheral.js';
import { identityFromSeed, type PhonePairing, type WorkstationPairing } from './protocol/pairing.js';
import { toHex } from '../protocol/bytes.js';
import { parseTransport } from './transport-spec.js';
import { countRoundTrips, openPtyPort, VirtualController, type PtyPort } from './virtual-controller/index.js';
import { readCommands } from './controller-commands.js';

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Ends long-running commands (default: SIGINT or SIGTERM). */
  readonly signal?: AbortSignal;
  /** Asks the phone's user (default: refuse, unless --auto-approve). */
  readonly ask?: (question: string) => Promise<boolean>;
}

export const processIo: CliIo = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) };

function untilStopped(io: CliIo): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
      resolve();
    };
    if (io.signal) {
      if (io.signal.aborted) return resolve();
      io.signal.addEventListener('abort', stop, { once: true });
    } else {
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    }
  });
}

function integer(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new RangeError(`--${name} must be an integer in ${min}…${max} (got ${value})`);
  return n;
}

/** Runs `body`, turning a bad option, an unusable adapter or a file error into a message and exit code 2. */
async function guarded(io: CliIo, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const systemError = typeof code === 'string' && (/^E[A-Z]+$/.test(code) || code.startsWith('ERR_PARSE_ARGS'));
    if (error instanceof RangeError || error instanceof TypeError || error instanceof BleTransportError || systemError) {
      io.stderr(`${(error as Error).message}\n`);
      return 2;
    }
    throw error;
  }
}

/**
 * `latchkey ble virtual-controller [--port NAME]… [--dir DIR] [--capture DIR] [--latency MS]
 * [--interval MS] [--acl-buffers N] [--json] [--commands]`: one pty per port; prints "NAME PATH"
 * per port (or one JSON line), runs until stopped, then prints what each connection carried.
 * With --commands it reads lines from stdin: `rotate NAME` gives a port a fresh random address
 * (as a phone's OS does), `rssi NAME DBM` sets what others hear, `stats` prints one JSON line of
 * what every connection carried so far, `state` one JSON line of which ports advertise.
 */
export function runVirtualController(args: readonly string[], io: CliIo = processIo): Promise<number> {
  return guarded(io, async () => {
    const { values } = parseArgs({
      args: [...args],
      options: {
        port: { type: 'string', multiple: true },
        dir: { type: 'string' },
        capture: { type: 'string' },
        latency: { type: 'string' },
        interval: { type: 'string' },
        'acl-buffers': { type: 'string' },
        json: { type: 'boolean' },
        commands: { type: 'boolean' },
      },
      strict: true,
    });
    const names = values.port ?? ['phone', 'workstation'];
    const ownDir = values.dir === undefined;
    const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'latchkey-vc-'));
    const controller = new VirtualController({
      linkLatencyMs: integer('latency', values.latency, 0, 0, 10_000),
      connectionIntervalMs: integer('interval', values.interval, 0, 0, 4_000),
      aclBufferCount: integer('acl-buffers', values['acl-buffers'], 8, 1, 64),
      ...(values.capture !== undefined && { captureDir: values.capture }),
    });
    const ptys: PtyPort[] = [];
    try {
      for (const name of names) {
        controller.addPort(name);
        ptys.push(await openPtyPort(controller, name, join(dir, name)));
      }
      if (values.json) io.stdout(`${JSON.stringify({ ports: Object.fromEntries(ptys.map((p) => [p.name, p.path])) })}\n`);
      else for (const pty of ptys) io.stdout(`${pty.name} ${pty.path}\n`);
      const stopCommands = values.commands ? readCommands(controller, io) : () => undefined;
      await untilStopped(io);
      stopCommands();
      for (const c of controller.connections) {
        const air = c.airBytes['central-to-peripheral'] + c.airBytes['peripheral-to-central'];
        io.stderr(`connection ${c.id} ${c.central} → ${c.peripheral}: ${c.att.length} ATT PDUs, ${countRoundTrips(c.att)} round trips, ${air} bytes on the air\n`);
      }
      return 0;
    } finally {
      for (const pty of ptys) await pty.close();
      controller.close();
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    }
  });
}

function loadPairings<T extends WorkstationPairing | PhonePairing>(files: readonly string[] | undefined, role: 'workstation' | 'phone'): T[] {
  if (!files || files.length === 0) throw new TypeError('--pairing FILE is required (docs/ble-dongles.md "Pairing files")');
  return files.map((file) => {
    const pairing = readPairingFile(file);
    if (isWorkstationPairing(pairing) !== (role === 'workstation')) throw new TypeError(`${file} is not a ${role} pairing`);
    return pairing as T;
  });
}

/**
 * `latchkey phone … ble serve --transport SPEC --pairing FILE… [--auto-approve] [--count N]`:
 * the phone side; prints one line per session; stops after N sessions or when stopped.
 */
export function runBlePhone(args: readonly string[], io: CliIo = processIo): Promise<number> {
  return guarded(io, async () => {
    const { values } = parseArgs({
      args: [...args],
      options: { transport: { type: 'string' }, pairing: { type: 'string', multiple: true }, 'auto-approve': { type: 'boolean' }, count: { type: 'string' } },
      strict: true,
    });
    if (!values.transport) throw new TypeError('--transport is required (hci:N, uart:PATH or usb:VID:PID)');
    const count = integer('count', values.count, 0, 0, 1_000_000);
    const pairings = loadPairings<PhonePairing>(values.pairing, 'phone');
    const ask = io.ask;
    const phone = await PhonePeripheral.start({
      transport: parseTransport(values.transport),
      pairings,
      approve: async ({ workstationName }) => (values['auto-approve'] ? true : ask ? ask(`Unlock ${workstationName ?? 'the workstation'}?`) : false),
    });
    io.stdout(`serving on ${phone.address}\n`);
    let served = 0;
    const done = new Promise<void>((resolve) => {
      phone.on('session', (outcome) => {
        served += 1;
        io.stdout(outcome.ok ? `session ${served}: ${outcome.accepted ? 'unlocked' : `refused by the workstation (${outcome.verdict})`}\n` : `session ${served}: ${outcome.code} — ${outcome.reason}\n`);
        if (count > 0 && served >= count) resolve();
      });
    });
    await Promise.race([done, untilStopped(io)]);
    await phone.stop();
    return 0;
  });
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/**
 * `latchkey ble test --transport SPEC --pairing FILE… [--count N] [--budget MS] [--min-rssi DBM|off]
 * [--proof-deadline MS] [--mtu N] [--json]`: repeated unlocks with a progress line, then the
 * success rate and latency percentiles. Exit 0 only if every unlock succeeded.
 */
export function runBleUnlockTest(args: readonly string[], io: CliIo = processIo): Promise<number> {
  return guarded(io, async () => {
    const { values } = parseArgs({
      args: [...args],
      options: {
        transport: { type: 'string' },
        pairing: { type: 'string', multiple: true },
        count: { type: 'string' },
        budget: { type: 'string' },
        'min-rssi': { type: 'string' },
        'proof-deadline': { type: 'string' },
        mtu: { type: 'string' },
        json: { type: 'boolean' },
      },
      strict: true,
    });
    if (!values.transport) throw new TypeError('--transport is required (hci:N, uart:PATH or usb:VID:PID)');
    const count = integer('count', values.count, 1, 1, 100_000);
    const minRssi = values['min-rssi'] === 'off' ? null : integer('min-rssi', values['min-rssi'], -80, -127, 20);
    const central = await WorkstationCentral.open({
      transport: parseTransport(values.transport),
      pairings: loadPairings<WorkstationPairing>(values.pairing, 'workstation'),
      minRssi,
      proofDeadlineMs: integer('proof-deadline', values['proof-deadline'], 300, 1, 60_000),
      ...(values.mtu !== undefined && { mtu: integer('mtu', values.mtu, 256, 23, 517) }),
    });
    const latencies: number[] = [];
    const failures = new Map<string, number>();
    try {
      for (let i = 1; i <= count; i++) {
        const result = await central.unlock({ budgetMs: integer('budget', values.budget, 10_000, 100, 120_000) });
        if (result.ok) latencies.push(result.timings.totalMs);
        else failures.set(result.code, (failures.get(result.code) ?? 0) + 1);
        io.stderr(`\runlock ${i}/${count}: ${result.ok ? `ok ${result.timings.totalMs.toFixed(0)} ms` : result.code}   `);
      }
    } finally {
      central.close();
    }
    io.stderr('\n');
    const sorted = [...latencies].sort((a, b) => a - b);
    const summary = {
      count,
      unlocked: latencies.length,
      successRate: latencies.length / count,
      p50Ms: percentile(sorted, 50),
      p90Ms: percentile(sorted, 90),
      p99Ms: percentile(sorted, 99),
      maxMs: sorted.at(-1) ?? Number.NaN,
      failures: Object.fromEntries(failures),
    };
    if (values.json) io.stdout(`${JSON.stringify(summary)}\n`);
    else {
      const f = (n: number) => (Number.isNaN(n) ? '–' : `${n.toFixed(1)} ms`);
      io.stdout(`${summary.unlocked}/${count} unlocked (${(summary.successRate * 100).toFixed(1)}%); latency p50 ${f(summary.p50Ms)}, p90 ${f(summary.p90Ms)}, p99 ${f(summary.p99Ms)}, max ${f(summary.maxMs)}\n`);
      for (const [code, n] of failures) io.stdout(`  ${n} × ${code}\n`);
    }
    return summary.unlocked === count ? 0 : 1;
  });
}

/** `latchkey ble scan --transport SPEC [--pairing FILE]… [--seconds N]`: Latchkey phones in range. */
export function runBleScan(args: readonly string[], io: CliIo = processIo): Promise<number> {
  return guarded(io, async () => {
    const { values } = parseArgs({ args: [...args], options: { transport: { type: 'string' }, pairing: { type: 'string', multiple: true }, seconds: { type: 'string' } }, strict: true });
    if (!values.transport) throw new TypeError('--transport is required (hci:N, uart:PATH or usb:VID:PID)');
    const pairings = values.pairing ? loadPairings<WorkstationPairing>(values.pairing, 'workstation') : [];
    const central = await WorkstationCentral.open({ transport: parseTransport(values.transport), pairings });
    const seen = new Map<string, string>();
    try {
      await central.scan(integer('seconds', values.seconds, 5, 1, 600) * 1000, (s) => {
        const line = `${s.address} (${s.addressType}) ${s.rssi} dBm ${s.pairingId ? `paired: ${s.pairingId}` : 'a Latchkey phone, not paired here'}`;
        if (seen.get(s.address) !== line) io.stdout(`${line}\n`);
        seen.set(s.address, line);
      });
    } finally {
      central.close();
    }
    if (seen.size === 0) io.stdout('no Latchkey phone in range\n');
    return 0;
  });
}

/**
 * `latchkey ble dev-pairing --workstation FILE --phone FILE [--id ID] [--name NAME]`: writes a
 * matching pair of pairing files with fresh keys (mode 0600), for engineers until pairing exists.
 */
export function runBleDevPairing(args: readonly string[], io: CliIo = processIo): Promise<number> {
  return guarded(io, async () => {
    const { values } = parseArgs({ args: [...args], options: { workstation: { type: 'string' }, phone: { type: 'string' }, id: { type: 'string' }, name: { type: 'string' } }, strict: true });
    if (!values.workstation || !values.phone) throw new TypeError('--workstation FILE and --phone FILE are required');
    const pairingKey = toHex(randomBytes(32));
    const workstation = identityFromSeed(new Uint8Array(randomBytes(32)));
    const phone = identityFromSeed(new Uint8Array(randomBytes(32)));
    const id = values.id ?? 'dev-phone';
    const write = (path: string, record: object) => writeFileSync(path, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    write(values.workstation, { role: 'workstation', id, pairingKey, identityPrivateKey: toHex(workstation.privateKey), peerPublicKey: toHex(phone.publicKey) });
    write(values.phone, { role: 'phone', id: `${id}-workstation`, pairingKey, identityPrivateKey: toHex(phone.privateKey), peerPublicKey: toHex(workstation.publicKey), workstationName: values.name ?? 'this workstation' });
    io.stdout(`wrote ${values.workstation} (workstation side) and ${values.phone} (phone side)\n`);
    return 0;
  });
}
