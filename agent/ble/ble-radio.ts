/**
 * The agent's one Bluetooth adapter (docs/configuration.md "ble"): a WorkstationCentral opened
 * on first use — so an agent with BLE off, or a lock screen that never asks, never loads noble —
 * and kept open after. An adapter that does not power on is retried at the next request, no
 * more often than every few seconds.
 */
import { performance } from 'node:perf_hooks';
import { WorkstationCentral } from '../../ble/central.js';
import { BleTransportError } from '../../ble/errors.js';
import type { BleTransport } from '../../ble/stack.js';
import { parseTransport } from '../../ble/transport-spec.js';
import type { BleConfig } from '../config.js';
import type { Logger } from '../../platform/log.js';

const REOPEN_AFTER_MS = 5_000;
const POWER_ON_TIMEOUT_MS = 3_000;

export class BleRadio {
  #central: Promise<WorkstationCentral> | null = null;
  #failedAt = -Infinity;
  #closed = false;

  constructor(
    private readonly config: BleConfig,
    private readonly log: Logger,
    /** Tests inject an in-process virtual controller's port; the config's spec otherwise. */
    private readonly transport: BleTransport | undefined = undefined,
  ) {}

  /**
   * The open central; rejects with `adapter-unavailable` when the adapter cannot be used. An
   * adapter that left the powered-on state since (unplugged, reset, switched off) is closed and
   * opened again.
   */
  async central(): Promise<WorkstationCentral> {
    if (this.#closed) throw new BleTransportError('adapter-unavailable', 'the agent is stopping');
    const open = await this.#central?.catch(() => null);
    if (open && open.state === 'poweredOn') return open;
    if (open) {
      this.log.warn('ble.adapter-lost', { transport: this.config.transport, state: open.state });
      open.close();
      this.#central = null;
    }
    return this.#open();
  }

  #open(): Promise<WorkstationCentral> {
    if (this.#central) return this.#central;
    if (performance.now() - this.#failedAt < REOPEN_AFTER_MS)
      return Promise.reject(
        new BleTransportError('adapter-unavailable', 'the Bluetooth adapter did not power on a moment ago'),
      );
    const transport = this.transport ?? parseTransport(this.config.transport);
    const opening = WorkstationCentral.open({
      transport,
      pairings: [],
      minRssi: this.config.minRssi,
      proofDeadlineMs: this.config.proofDeadlineMs,
      powerOnTimeoutMs: POWER_ON_TIMEOUT_MS,
    });
    this.#central = opening;
    opening.then(
      (central) =>
        this.log.info('ble.adapter-open', {
          transport: this.transport ? this.transport.kind : this.config.transport,
          address: central.address,
        }),
      (error: unknown) => {
        this.#central = null;
        this.#failedAt = performance.now();
        this.log.error('ble.adapter-unavailable', { transport: this.config.transport, error: error as Error });
      },
    );
    return opening;
  }

  /** Stops the adapter (agent shutdown). */
  async close(): Promise<void> {
    this.#closed = true;
    const central = await this.#central?.catch(() => null);
    central?.close();
    this.#central = null;
  }
}
