/**
 * The workstation side (GATT central, @stoprocent/noble): find a paired phone by its rotating
 * tag, connect, set up the GATT link, run the exchange, and answer one typed UnlockResult.
 * Transport failures are retried with a fresh handshake while the budget lasts (§8).
 */
import { performance } from 'node:perf_hooks';
import type { Noble, Peripheral } from '@stoprocent/noble';
import { cachedLink, discoverLink, type GattHandles } from './central-gatt.js';
import { BleTransportError, RETRYABLE_CODES, withTimeout, type BleUnlockFailureCode } from './errors.js';
import { CONNECT_TIMEOUT_MS, DEFAULT_APPROVAL_TIMEOUT_MS, DEFAULT_MIN_RSSI } from './protocol/constants.js';
import { DEFAULT_SLOT_TOLERANCE, GATT_SETUP_TIMEOUT_MS } from './protocol/constants.js';
import { checkWorkstationPairing, type WorkstationPairing } from './protocol/pairing-records.js';
import { deriveTagKey, tagFromManufacturerData, TagMatcher } from './protocol/tag.js';
import { findPhone } from './central-scan.js';
import { centralPair, type PairRequest, type PairResult } from './central-pairing.js';
import { createNoble, openRadio, type BleTransport } from './stack.js';
import { runWorkstationExchange, type ExchangeLink } from './workstation-exchange.js';
import type { RandomSource } from '../protocol/crypto/hashes.js';

export type { GattHandles } from './central-gatt.js';

export interface WorkstationCentralOptions {
  readonly transport: BleTransport;
  readonly pairings: readonly WorkstationPairing[];
  /** Wall clock for tag slots (ms since the epoch). */
  readonly clock?: () => number;
  readonly random?: RandomSource;
  /** Lowest RSSI accepted, at discovery and on the link (dBm); null turns the check off (§7). */
  readonly minRssi?: number | null;
  /** Relay bound for PROOF after CHALLENGE, ms (§7). */
  readonly proofDeadlineMs?: number;
  readonly slotTolerance?: number;
  /** How long to wait for the adapter to power on. */
  readonly powerOnTimeoutMs?: number;
  /** ATT_MTU to ask for (default 256, noble's; 23 forces the smallest fragments). */
  readonly mtu?: number;
  /** GATT handles learnt earlier, per pairing id (persisted by the caller from UnlockResult.gattHandles). */
  readonly gattHandles?: Readonly<Record<string, GattHandles>>;
  /** Always run full GATT discovery (no handle cache). */
  readonly noGattCache?: boolean;
}

export interface UnlockRequest {
  /** The pairings to look for (default: those given at open); the agent passes one user's phones. */
  readonly pairings?: readonly WorkstationPairing[];
  /** Only these pairings (default: any). */
  readonly pairingIds?: readonly string[];
  /** The whole attempt, retries included (default 35 s; the PAM flow passes ~5 s). */
  readonly budgetMs?: number;
  /** performance.now() by which the attempt ends, time queued behind another unlock included (wins over budgetMs). */
  readonly deadline?: number;
  readonly approvalTimeoutMs?: number;
  /** Attempts for retryable transport failures (default 2). */
  readonly attempts?: number;
  /**
   * GATT handles the caller kept from pairing or an earlier unlock, per pairing id (the agent
   * keeps them in the sealed record of each phone). Handles this central learnt or found stale
   * since win over them.
   */
  readonly gattHandles?: Readonly<Record<string, GattHandles>>;
  /**
   * Windows only (docs/windows.md §6.5): per pairing id, the eph of that phone's copy of the
   * user's password. The phone found is asked with request 0x02 and releases the copy key.
   */
  readonly copyEphs?: Readonly<Record<string, Uint8Array>>;
}

export interface UnlockTimings {
  readonly scanMs: number;
  readonly connectMs: number;
  readonly setupMs: number;
  readonly exchangeMs: number;
  readonly proofMs: number;
  readonly totalMs: number;
}

export type UnlockResult =
  | {
      readonly ok: true;
      readonly pairingId: string;
      readonly address: string;
      readonly rssi: number | null;
      readonly mtu: number;
      readonly attempts: number;
      readonly timings: UnlockTimings;
      /** Whether GATT setup used cached handles, and the handles to keep for next time. */
      readonly gattCached: boolean;
      readonly gattHandles: GattHandles | null;
      /** With `copyEphs` naming this phone: the copy key it released (the caller wipes it). */
      readonly copyKey?: Uint8Array;
    }
  | {
      readonly ok: false;
      readonly code: BleUnlockFailureCode;
      readonly reason: string;
      readonly attempts: number;
      readonly retryable: boolean;
      readonly peerCode?: number;
      /** 'scan' when no paired phone was connected to (nothing was proven either way), else 'link'. */
      readonly stage?: 'scan' | 'link';
    };

interface PairingSet {
  readonly byId: ReadonlyMap<string, WorkstationPairing>;
  readonly matcher: TagMatcher<string>;
}

export class WorkstationCentral {
  readonly #noble: Noble;
  readonly #options: WorkstationCentralOptions;
  readonly #known: PairingSet;
  /** Per pairing id: the handles learnt here, or null once cached ones proved stale (until rediscovered). */
  readonly #gattHandles = new Map<string, GattHandles | null>();
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(noble: Noble, options: WorkstationCentralOptions) {
    this.#noble = noble;
    this.#options = options;
    for (const [id, handles] of Object.entries(options.gattHandles ?? {})) this.#gattHandles.set(id, handles);
    this.#known = this.#pairingSet(options.pairings);
  }

  #pairingSet(pairings: readonly WorkstationPairing[]): PairingSet {
    for (const pairing of pairings) checkWorkstationPairing(pairing);
    return {
      byId: new Map(pairings.map((p) => [p.id, p])),
      matcher: new TagMatcher(
        pairings.map((p) => ({ id: p.id, tagKey: deriveTagKey(p.pairingKey) })),
        this.#options.slotTolerance ?? DEFAULT_SLOT_TOLERANCE,
      ),
    };
  }

  /** Opens the adapter; fails with `adapter-unavailable` and a sentence when it cannot be used or does not power on. */
  static async open(options: WorkstationCentralOptions): Promise<WorkstationCentral> {
    const noble = await openRadio(options.transport, createNoble, options.powerOnTimeoutMs ?? 5_000);
    return new WorkstationCentral(noble, options);
  }

  get address(): string {
    return this.#noble.address;
  }

  /** noble's adapter state: 'poweredOn' while usable ('poweredOff', 'unsupported', … after a fault). */
  get state(): string {
    return this.#noble.state;
  }

  /** One unlock, serialised with any other on this adapter. */
  unlock(request: UnlockRequest = {}): Promise<UnlockResult> {
    const run = this.#queue.then(() => this.#unlock(request));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Listens for Latchkey advertisements for `durationMs` (for `latchkey ble scan`): each call of
   * `onSeen` names the pairing the tag belongs to, or null for another Latchkey phone.
   */
  async scan(
    durationMs: number,
    onSeen: (seen: { address: string; addressType: string; rssi: number; pairingId: string | null }) => void,
  ): Promise<void> {
    const clock = this.#options.clock ?? Date.now;
    const onDiscover = (peripheral: Peripheral): void => {
      const data = peripheral.advertisement?.manufacturerData;
      const tag = data ? tagFromManufacturerData(new Uint8Array(data)) : null;
      if (!tag) return;
      onSeen({
        address: peripheral.address,
        addressType: peripheral.addressType,
        rssi: peripheral.rssi,
        pairingId: this.#known.matcher.match(tag, clock())?.id ?? null,
      });
    };
    this.#noble.on('discover', onDiscover);
    try {
      await this.#noble.startScanningAsync([], true);
      await new Promise((resolve) => setTimeout(resolve, durationMs));
    } finally {
      this.#noble.removeListener('discover', onDiscover);
      await withTimeout(this.#noble.stopScanningAsync(), 1_000, () => new Error('stop scanning timed out')).catch(
        () => undefined,
      );
    }
  }

  /**
   * Pairing over BLE (§12): finds the phone advertising the pairing tag, connects, discovers
   * the service and runs the exchange. Serialised with unlocks on this adapter.
   */
  pair(request: PairRequest): Promise<PairResult> {
    const run = this.#queue.then(() =>
      centralPair(this.#noble, request, {
        minRssi: this.#minRssi(),
        clock: this.#options.clock ?? Date.now,
        mtu: this.#options.mtu,
      }),
    );
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #minRssi(): number | null {
    return this.#options.minRssi === undefined ? DEFAULT_MIN_RSSI : this.#options.minRssi;
  }

  close(): void {
    this.#noble.removeAllListeners('discover');
    this.#noble.stop();
  }

  async #unlock(request: UnlockRequest): Promise<UnlockResult> {
    const started = performance.now();
    const deadline = request.deadline ?? started + (request.budgetMs ?? DEFAULT_APPROVAL_TIMEOUT_MS + 5_000);
    const attempts = request.attempts ?? 2;
    const set = request.pairings ? this.#pairingSet(request.pairings) : this.#known;
    let last: UnlockResult | null = null;
    for (let attempt = 1; attempt <= attempts && performance.now() < deadline; attempt++) {
      last = await this.#attempt(request, set, deadline, attempt, started);
      if (last.ok || !last.retryable) return last;
    }
    return (
      last ?? {
        ok: false,
        code: 'no-phone-found',
        reason: 'no time was left to look for the phone',
        attempts: 0,
        retryable: false,
      }
    );
  }

  async #attempt(
    request: UnlockRequest,
    set: PairingSet,
    deadline: number,
    attempt: number,
    started: number,
  ): Promise<UnlockResult> {
    const failure = (
      code: BleUnlockFailureCode,
      reason: string,
      peerCode?: number,
      stage: 'scan' | 'link' = 'link',
    ): UnlockResult => ({
      ok: false,
      code,
      reason,
      attempts: attempt,
      retryable: RETRYABLE_CODES.has(code),
      ...(peerCode !== undefined && { peerCode }),
      stage,
    });
    const t0 = performance.now();
    const scan = await findPhone(this.#noble, {
      matcher: set.matcher,
      ids: request.pairingIds,
      minRssi: this.#minRssi(),
      clock: this.#options.clock ?? Date.now,
      deadline,
    });
    if ('code' in scan) return failure(scan.code, scan.reason, undefined, 'scan');
    const { peripheral, tag } = scan;
    const pairing = set.byId.get(scan.id)!;
    const t1 = performance.now();
    try {
      // noble 2.8.0 reads `mtu` from the connect parameters although its typings omit it.
      const connect = peripheral.connectAsync as (options?: { mtu?: number }) => Promise<void>;
      await withTimeout(
        connect.call(peripheral, this.#options.mtu === undefined ? undefined : { mtu: this.#options.mtu }),
        Math.min(CONNECT_TIMEOUT_MS, deadline - t1),
        () => new BleTransportError('connect-failed', 'the phone did not accept the connection in time'),
      );
    } catch (error) {
      peripheral.cancelConnect();
      return failure('connect-failed', error instanceof Error ? error.message : String(error));
    }
    const t2 = performance.now();
    try {
      const { link, cached } = await this.#setUp(peripheral, pairing.id, request.gattHandles?.[pairing.id], deadline);
      const t3 = performance.now();
      const approvalTimeoutMs = Math.max(
        0,
        Math.min(request.approvalTimeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS, deadline - t3),
      );
      const result = await runWorkstationExchange(link, pairing, tag, {
        approvalTimeoutMs,
        ...(this.#options.proofDeadlineMs !== undefined && { proofDeadlineMs: this.#options.proofDeadlineMs }),
        minRssi: this.#minRssi(),
        ...(this.#options.random !== undefined && { random: this.#options.random }),
        ...(request.copyEphs?.[pairing.id] !== undefined && { copyEph: request.copyEphs[pairing.id] }),
      });
      if (!result.ok) {
        // A cached setup that led nowhere may mean the phone's GATT layout changed: rediscover next time.
        if (cached && (result.code === 'gatt-setup-failed' || result.code === 'reassembly-timeout'))
          this.#gattHandles.set(pairing.id, null);
        return failure(result.code, result.reason, result.peerCode);
      }
      const end = performance.now();
      return {
        ok: true,
        pairingId: pairing.id,
        address: peripheral.address,
        rssi: result.rssi,
        mtu: link.mtu,
        attempts: attempt,
        timings: {
          scanMs: t1 - t0,
          connectMs: t2 - t1,
          setupMs: t3 - t2,
          exchangeMs: result.exchangeMs,
          proofMs: result.proofMs,
          totalMs: end - started,
        },
        gattCached: cached,
        gattHandles: this.#gattHandles.get(pairing.id) ?? null,
        ...(result.copyKey && { copyKey: result.copyKey }),
      };
    } catch (error) {
      const code = error instanceof BleTransportError ? error.code : 'gatt-setup-failed';
      return failure(code, error instanceof Error ? error.message : String(error));
    } finally {
      if (peripheral.state === 'connected')
        await withTimeout(peripheral.disconnectAsync(), 2_000, () => new Error('disconnect timed out')).catch(
          () => undefined,
        );
    }
  }

  /** GATT setup (§3): the cached handles if there are any and they still fit, else full discovery. */
  async #setUp(
    peripheral: Peripheral,
    pairingId: string,
    kept: GattHandles | undefined,
    deadline: number,
  ): Promise<{ link: ExchangeLink; cached: boolean }> {
    const known = this.#options.noGattCache
      ? undefined
      : this.#gattHandles.has(pairingId)
        ? this.#gattHandles.get(pairingId)
        : kept;
    if (known) {
      const link = await cachedLink(peripheral, known);
      if (link) {
        this.#gattHandles.set(pairingId, known);
        return { link, cached: true };
      }
      this.#gattHandles.set(pairingId, null);
    }
    const { link, handles } = await discoverLink(
      peripheral,
      Math.min(GATT_SETUP_TIMEOUT_MS, deadline - performance.now()),
    );
    if (handles && !this.#options.noGattCache) this.#gattHandles.set(pairingId, handles);
    return { link, cached: false };
  }
}
