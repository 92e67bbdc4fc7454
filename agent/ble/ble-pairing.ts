/**
 * Pairing a phone over Bluetooth, the workstation's half (docs/ble-protocol.md §12): draw a
 * code, keep its secret in memory only, then scan for the phone that was given it and run the
 * exchange until it succeeds, the code is burnt (5 wrong tries), expires (10 minutes), or the
 * caller's wait ends. The new keys go into the user's sealed state before the reply.
 */
import { performance } from 'node:perf_hooks';
import { randomBytes } from '../../protocol/crypto/hashes.js';
import { MAX_PAIRING_ATTEMPTS, PAIRING_LIFETIME_MS } from '../../ble/protocol/constants.js';
import { deriveCodeKey, newBlePairingCode } from '../../ble/protocol/pairing-code.js';
import { WorkstationPairingHandshake } from '../../ble/protocol/pairing-handshake.js';
import { identityFromSeed } from '../../ble/protocol/pairing-records.js';
import { wipe } from '../../protocol/bytes.js';
import type { Clock } from '../../platform/clock.js';
import type { Logger } from '../../platform/log.js';
import type { BlePhone } from '../state/user-state.js';
import { newBlePhone } from './ble-phones.js';
import type { BleRadio } from './ble-radio.js';
import type { WorkstationCentral } from '../../ble/central.js';

/** One radio slice of the wait: unlocks queued on the same adapter run between slices. */
const SCAN_SLICE_MS = 1_000;
/** Pause after a transport failure, so a broken adapter is not hammered. */
const RETRY_PAUSE_MS = 250;

interface OpenPairing {
  readonly user: string;
  readonly codeKey: Uint8Array;
  /** On the agent clock's uptime (monotonic while the agent runs: the secret dies with it). */
  readonly expiresAtUptime: number;
  readonly expiresAtWall: number;
  failures: number;
}

export type BlePairingOutcome =
  | { readonly ok: true; readonly phone: BlePhone }
  | {
      readonly ok: false;
      readonly code: 'pairing-expired' | 'pairing-unknown' | 'pairing-timeout' | 'ble-off';
      readonly message: string;
      readonly wrongCodes: number;
    };

export interface BlePairingDeps {
  readonly radio: BleRadio;
  readonly clock: Clock;
  readonly log: Logger;
  /** How the phone shows this workstation to its user: "alice on ws-1". */
  readonly label: (user: string) => string;
  /** Keeps the new phone durably in the user's sealed state. */
  readonly keep: (user: string, phone: BlePhone) => Promise<void>;
  /** Called for each wrong code the workstation refused (audit). */
  readonly onWrongCode: (user: string, pairingId: string) => void;
}

export class BlePairings {
  readonly #open = new Map<string, OpenPairing>();

  constructor(private readonly deps: BlePairingDeps) {}

  /** Draws a code for `user`; its secret lives only here, in memory, until the pairing ends. */
  async start(user: string): Promise<{ pairingId: string; code: string; expiresAt: number }> {
    this.#dropExpired();
    let code = newBlePairingCode();
    while (this.#open.has(code.pairingId)) code = newBlePairingCode();
    const now = this.deps.clock.now();
    const expiresAtWall = now.wallMs + PAIRING_LIFETIME_MS;
    this.#open.set(code.pairingId, {
      user,
      codeKey: await deriveCodeKey(code.pairingId, code.secret),
      expiresAtUptime: now.uptimeMs + PAIRING_LIFETIME_MS,
      expiresAtWall,
      failures: 0,
    });
    return { pairingId: code.pairingId, code: code.code, expiresAt: expiresAtWall };
  }

  /** Waits up to `waitMs` for the phone given the code, and pairs with it. */
  async finish(user: string, pairingId: string, waitMs: number): Promise<BlePairingOutcome> {
    const open = this.#open.get(pairingId);
    if (!open || open.user !== user)
      return {
        ok: false,
        code: 'pairing-unknown',
        message: `no Bluetooth pairing ${pairingId} is waiting for ${user} (wrong code, already used, or the agent restarted)`,
        wrongCodes: 0,
      };
    const deadline = performance.now() + waitMs;
    let wrongCodes = 0;
    for (;;) {
      if (this.#open.get(pairingId) !== open)
        return {
          ok: false,
          code: 'pairing-unknown',
          message: 'this pairing was finished or cancelled by another request',
          wrongCodes,
        };
      if (this.deps.clock.now().uptimeMs >= open.expiresAtUptime)
        return this.#end(
          pairingId,
          'pairing-expired',
          'the pairing code expired: show a new one with latchkey ble pair',
          wrongCodes,
        );
      const left = deadline - performance.now();
      if (left <= 0)
        return {
          ok: false,
          code: 'pairing-timeout',
          message: 'no phone with this code came near; the code stays valid until it expires',
          wrongCodes,
        };
      let central: WorkstationCentral;
      try {
        central = await this.deps.radio.central();
      } catch (error) {
        return {
          ok: false,
          code: 'ble-off',
          message: `Bluetooth is not available: ${(error as Error).message}`,
          wrongCodes,
        };
      }
      const seed = randomBytes(32);
      const result = await central.pair({
        pairingId,
        budgetMs: Math.min(SCAN_SLICE_MS, left),
        handshake: (tag) =>
          new WorkstationPairingHandshake(
            { pairingId, codeKey: open.codeKey, identity: identityFromSeed(seed), name: this.deps.label(user) },
            tag,
          ),
      });
      if (result.ok) {
        const phone = newBlePhone(pairingId, seed, result.peer, this.deps.clock.now().wallMs, result.gattHandles);
        wipe(seed, result.peer.pairingKey);
        this.#end(pairingId, 'pairing-unknown', '', wrongCodes);
        await this.deps.keep(user, phone);
        return { ok: true, phone };
      }
      wipe(seed);
      if (result.code === 'no-phone-found') continue;
      this.deps.log.warn('ble.pairing-attempt', { user, pairingId, code: result.code, reason: result.reason });
      if (result.code === 'pairing-mismatch' || result.code === 'bad-signature') {
        wrongCodes += 1;
        open.failures += 1;
        this.deps.onWrongCode(user, pairingId);
        if (open.failures >= MAX_PAIRING_ATTEMPTS)
          return this.#end(
            pairingId,
            'pairing-expired',
            `the code was tried wrongly ${open.failures} times and no longer works: show a new one`,
            wrongCodes,
          );
        continue;
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
    }
  }

  #end(
    pairingId: string,
    code: 'pairing-expired' | 'pairing-unknown',
    message: string,
    wrongCodes: number,
  ): BlePairingOutcome {
    const open = this.#open.get(pairingId);
    if (open) wipe(open.codeKey);
    this.#open.delete(pairingId);
    return { ok: false, code, message, wrongCodes };
  }

  #dropExpired(): void {
    const uptime = this.deps.clock.now().uptimeMs;
    for (const [pairingId, open] of this.#open)
      if (uptime >= open.expiresAtUptime) this.#end(pairingId, 'pairing-expired', '', 0);
  }
}
