/**
 * What a running virtual controller process answers on stdin (`latchkey ble virtual-controller
 * --commands`), so tests and benchmarks in other processes can rotate a phone's address, change
 * what the radio hears, read what each connection carried, and see which ports advertise.
 */
import { createInterface } from 'node:readline';
import type { CliIo } from './cli.js';
import { countRoundTrips, unlockExchangeStart, type VirtualController } from './virtual-controller/index.js';

/** What each connection carried: ATT PDUs, round trips (after the unlock exchange started, too) and bytes on the air. */
export function connectionStats(controller: VirtualController) {
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

/** The --commands channel of the virtual controller: one command per stdin line, one answer per stdout line. */
export function readCommands(controller: VirtualController, io: Pick<CliIo, 'stdout'>): () => void {
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const [command, name, value] = line.trim().split(/\s+/);
    try {
      if (command === 'rotate' && name) io.stdout(`rotated ${name} ${controller.rotateAddress(name)}\n`);
      else if (command === 'rssi' && name && value !== undefined && Number.isInteger(Number(value))) {
        controller.setRssi(name, Number(value));
        io.stdout(`rssi ${name} ${value}\n`);
      } else if (command === 'stats') io.stdout(`${JSON.stringify({ connections: connectionStats(controller) })}\n`);
      else if (command === 'state') {
        const ports = Object.fromEntries(controller.ports.map((p) => [p.name, { advertising: p.advertising.enabled, connections: p.connections.size }]));
        io.stdout(`${JSON.stringify({ state: ports })}\n`);
      } else if (command) io.stdout(`unknown command: ${command} (rotate NAME, rssi NAME DBM, stats, state)\n`);
    } catch (error) {
      io.stdout(`error: ${(error as Error).message}\n`);
    }
  });
  return () => lines.close();
}

