/**
 * `latchkey ble virtual-controller`: a virtual controller on pseudo-terminals, so two processes
 * act as two machines (docs/ble-virtual-controller.md). With `--commands` it answers on stdin,
 * so tests and benchmarks in other processes can rotate a phone's address, change what the
 * radio hears, read what each connection carried, and see which ports advertise.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { countRoundTrips, openPtyPort, unlockExchangeStart } from '../../../ble/virtual-controller/index.js';
import { VirtualController, type PtyPort } from '../../../ble/virtual-controller/index.js';
import { integerIn } from './option-values.js';

export interface VirtualControllerFlags {
  readonly port?: readonly string[];
  readonly dir?: string;
  readonly capture?: string;
  readonly latency?: string;
  readonly interval?: string;
  readonly aclBuffers?: string;
  readonly json?: boolean;
  readonly commands?: boolean;
}

/** What each connection carried: ATT PDUs, round trips (after the unlock exchange started, too) and bytes on the air. */
function connectionStats(controller: VirtualController) {
  return controller.connections.map((c) => {
    const start = unlockExchangeStart(c.att);
    const exchange = start < 0 ? [] : c.att.slice(start);
    return {
      id: c.id,
      central: c.central,
      peripheral: c.peripheral,
      attPdus: c.att.length,
      roundTrips: countRoundTrips(c.att),
      exchangeRoundTrips: countRoundTrips(exchange),
      airBytes: c.airBytes['central-to-peripheral'] + c.airBytes['peripheral-to-central'],
      exchangeAirBytes: exchange.reduce((sum, pdu) => sum + pdu.airBytes, 0),
    };
  });
}

/** The --commands channel: one command per stdin line, one answer per stdout line. */
function readCommands(controller: VirtualController): () => void {
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const [command, name, value] = line.trim().split(/\s+/);
    try {
      if (command === 'rotate' && name) say(`rotated ${name} ${controller.rotateAddress(name)}`);
      else if (command === 'rssi' && name && value !== undefined && Number.isInteger(Number(value))) {
        controller.setRssi(name, Number(value));
        say(`rssi ${name} ${value}`);
      } else if (command === 'stats') say(JSON.stringify({ connections: connectionStats(controller) }));
      else if (command === 'state') {
        const ports = Object.fromEntries(
          controller.ports.map((p) => [
            p.name,
            { advertising: p.advertising.enabled, connections: p.connections.size },
          ]),
        );
        say(JSON.stringify({ state: ports }));
      } else if (command) say(`unknown command: ${command} (rotate NAME, rssi NAME DBM, stats, state)`);
    } catch (error) {
      say(`error: ${(error as Error).message}`);
    }
  });
  return () => lines.close();
}

function untilStopped(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/**
 * One pty per port; prints "NAME PATH" per port (or one JSON line), runs until stopped, then
 * prints what each connection carried.
 */
export async function runVirtualController(flags: VirtualControllerFlags): Promise<number> {
  const controller = new VirtualController({
    linkLatencyMs: integerIn('--latency', flags.latency, 0, 0, 10_000),
    connectionIntervalMs: integerIn('--interval', flags.interval, 0, 0, 4_000),
    aclBufferCount: integerIn('--acl-buffers', flags.aclBuffers, 8, 1, 64),
    ...(flags.capture !== undefined && { captureDir: flags.capture }),
  });
  const names = flags.port ?? ['phone', 'workstation'];
  const ownDir = flags.dir === undefined;
  const dir = flags.dir ?? mkdtempSync(join(tmpdir(), 'latchkey-vc-'));
  const ptys: PtyPort[] = [];
  try {
    for (const name of names) {
      controller.addPort(name);
      ptys.push(await openPtyPort(controller, name, join(dir, name)));
    }
    if (flags.json)
      process.stdout.write(`${JSON.stringify({ ports: Object.fromEntries(ptys.map((p) => [p.name, p.path])) })}\n`);
    else for (const pty of ptys) process.stdout.write(`${pty.name} ${pty.path}\n`);
    const stopCommands = flags.commands ? readCommands(controller) : () => undefined;
    await untilStopped();
    stopCommands();
    for (const c of controller.connections) {
      const air = c.airBytes['central-to-peripheral'] + c.airBytes['peripheral-to-central'];
      process.stderr.write(
        `connection ${c.id} ${c.central} → ${c.peripheral}: ${c.att.length} ATT PDUs, ${countRoundTrips(c.att)} round trips, ${air} bytes on the air\n`,
      );
    }
    return 0;
  } finally {
    for (const pty of ptys) await pty.close();
    controller.close();
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  }
}
