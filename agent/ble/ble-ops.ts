/**
 * The IPC operations of Bluetooth unlock (docs/ipc.md ops 11–14): what the lock screen and the
 * CLI ask of BLE unlock, pairing and unpairing. Authorisation happened before these run
 * (agent-service.ts); each answers with a reply, never throws for a radio problem, writes an
 * audit entry for every decision, and makes state durable before it answers.
 */
import { performance } from 'node:perf_hooks';
import { currentAccount } from '../../platform/users.js';
import type { Caller } from '../../platform/ipc-transport.js';
import type { Reply } from '../../protocol/ipc-messages.js';
import { FRESH_HAMMERING } from '../offline-pin/anti-hammering.js';
import { sealMissingCopiesAfterRelease } from '../offline-pin/credential-copies.js';
import type { AuditEntry, AuditLog } from '../state/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import type { BleConfig } from '../config.js';
import type { KeyedMutex } from '../keyed-mutex.js';
import type { Logger } from '../../platform/log.js';
import { emptyUserState, MAX_POOLS_PER_USER, type BleGattHandles, type UserState } from '../state/user-state.js';
import type { UserStateStore } from '../state/user-state-store.js';
import { workstationLabel } from '../../ble/protocol/workstation-label.js';
import { BlePairings } from './ble-pairing.js';
import { describeBlePhone, keptGattHandles, toWorkstationPairing, wipePairings } from './ble-phones.js';
import { withGattHandles } from './ble-phones.js';
import type { BleRadio } from './ble-radio.js';
import { bleAuthAnswer, bleAuthOutcome, type BleAuthOutcome } from './ble-result.js';
import type { WorkstationCentral } from '../../ble/central.js';
import { ErrorCode } from '../../ble/protocol/message-codec.js';
import { bleCopyEphs, logonCredentialFromCopyKey } from '../online/phone-credential-release.js';
import type { CredentialOpening } from '../online/phone-credential-release.js';

type Answer = Omit<Reply, 'requestId'>;
type Peer = Pick<Caller, 'pid' | 'uid'>;

/**
 * After a rejected BLE unlock the lock screen skips Bluetooth for this user for a minute, so the
 * person can go on with a PIN at once, and someone tampering with the radio cannot keep the PIN
 * prompt away (docs/ipc.md op 11).
 */
export const BLE_REJECTION_PAUSE_MS = 60_000;

export interface BleOpsDeps {
  readonly config: BleConfig;
  readonly store: UserStateStore;
  readonly mutex: KeyedMutex;
  readonly audit: AuditLog;
  readonly log: Logger;
  readonly clock: Clock;
  /** How phones are told this workstation is called: its enrolled name, else its host name. */
  readonly workstationName: () => string;
  readonly radio: BleRadio;
}

export class BleOps {
  readonly #pairings: BlePairings;
  readonly #pausedUntil = new Map<string, number>();

  constructor(private readonly deps: BleOpsDeps) {
    this.#pairings = new BlePairings({
      radio: deps.radio,
      clock: deps.clock,
      log: deps.log,
      label: (user) => workstationLabel(user, deps.workstationName()),
      keep: (user, phone) =>
        this.#update(user, (state) => ({
          ...state,
          blePhones: [...state.blePhones.filter((p) => p.deviceId !== phone.deviceId), phone],
        })),
      onWrongCode: (user, pairingId) =>
        this.#audit(
          {
            event: 'pairing',
            user,
            authenticatorId: `ble-${pairingId}`,
            result: 'rejected',
            reason: 'pairing-mac',
            remaining: null,
            context: 'ble',
          },
          null,
        ),
    });
  }

  /** The `ble` flag of status: Bluetooth is on here, the user has a BLE-paired phone, and no refusal is fresh. */
  canUnlock(state: UserState | null): boolean {
    if (!this.deps.config.enabled || !state || state.blePhones.length === 0) return false;
    return (this.#pausedUntil.get(state.user) ?? 0) <= performance.now();
  }

  /**
   * Op 11: one BLE unlock for the lock screen, bounded by the smaller of `waitMs` and `ble.budgetMs`.
   * `wantsCredential`: also ask the phone to release the user's Windows password (docs/windows.md
   * §6.5) — only for a Windows lock-screen connection from SYSTEM; on Linux the agent never asks.
   */
  async auth(user: string, waitMs: number, context: string, peer: Peer, wantsCredential = false): Promise<Answer> {
    const started = performance.now();
    const budgetMs = Math.min(waitMs, this.deps.config.budgetMs);
    const { outcome, gatt, credential } = await this.#unlock(user, budgetMs, started, wantsCredential);
    if (credential && !credential.ok) this.deps.log.warn('ble-auth.no-credential', { user, reason: credential.code });
    const handed = outcome.status === 'accepted' && credential?.ok ? credential : undefined;
    if (outcome.status === 'accepted') {
      // A proof from the paired phone is an authenticated event, like an online sign-in: it clears
      // anti-hammering. The phone's GATT handles are kept with it when they changed (§3).
      await this.#update(user, (state) => ({
        ...state,
        wallHighWaterMs: Math.max(state.wallHighWaterMs, this.deps.clock.now().wallMs),
        hammering: FRESH_HAMMERING,
        blePhones: state.blePhones.map((phone) =>
          phone.deviceId === outcome.deviceId ? (withGattHandles(phone, gatt) ?? phone) : phone,
        ),
      }));
    }
    if (outcome.status === 'rejected') this.#pausedUntil.set(user, performance.now() + BLE_REJECTION_PAUSE_MS);
    const reason = outcome.status === 'accepted' ? null : outcome.reason;
    this.#audit(
      {
        event: 'ble-auth',
        user,
        authenticatorId: outcome.status === 'accepted' ? outcome.deviceId : null,
        result: outcome.status,
        reason,
        remaining: null,
        context,
      },
      peer,
    );
    // ms: from the request to a durable, audited decision (bench/ble-pam.mjs reads it).
    const radio =
      outcome.status === 'accepted'
        ? Object.fromEntries(Object.entries(outcome.timings ?? {}).map(([k, v]) => [k, Number(v.toFixed(1))]))
        : { detail: outcome.detail };
    this.deps.log.info('ble-auth', {
      user,
      result: outcome.status,
      reason: reason ?? undefined,
      ...radio,
      context,
      ms: Number((performance.now() - started).toFixed(1)),
    });
    // docs/windows.md §5: the logon credential rides in `secret`, wiped by the connection once sent.
    return handed
      ? { ...bleAuthAnswer(outcome), secret: handed.logonCredential, generation: handed.generation }
      : bleAuthAnswer(outcome);
  }

  /** Op 12: a pairing code for `user` (root only). */
  async pair(user: string): Promise<Answer> {
    if (!this.deps.config.enabled)
      return {
        status: 'unavailable',
        reason: 'ble-off',
        message: 'Bluetooth unlock is not enabled on this computer (ble.enabled in the agent config).',
      };
    const state = await this.deps.store.read(user);
    if ((state?.blePhones.length ?? 0) >= MAX_POOLS_PER_USER)
      return {
        status: 'error',
        reason: 'bad-field',
        message: `${user} already has ${MAX_POOLS_PER_USER} phones paired over Bluetooth; unpair one first.`,
      };
    const started = await this.#pairings.start(user);
    const minutes = Math.round((started.expiresAt - this.deps.clock.now().wallMs) / 60_000);
    return {
      status: 'ok',
      secret: new TextEncoder().encode(started.code),
      message: `On the phone, run "latchkey phone ble pair CODE" (or type the code in the app) within ${minutes} minutes, near this computer.`,
      detail: JSON.stringify({
        user,
        pairingId: started.pairingId,
        expiresAt: new Date(started.expiresAt).toISOString(),
      }),
    };
  }

  /** Op 13: waits for the phone given the code and pairs with it. */
  async finishPairing(user: string, pairingId: string, waitMs: number, peer: Peer): Promise<Answer> {
    const outcome = await this.#pairings.finish(user, pairingId, waitMs);
    if (outcome.ok) {
      this.#audit(
        {
          event: 'pairing',
          user,
          authenticatorId: outcome.phone.deviceId,
          result: 'ok',
          reason: null,
          remaining: null,
          context: 'ble',
        },
        peer,
      );
      this.deps.log.info('ble.paired', { user, deviceId: outcome.phone.deviceId, name: outcome.phone.name });
      return {
        status: 'ok',
        message: `Paired ${outcome.phone.name} over Bluetooth (${outcome.phone.deviceId}).`,
        detail: JSON.stringify(describeBlePhone(outcome.phone)),
      };
    }
    if (outcome.code === 'ble-off') return { status: 'unavailable', reason: 'ble-off', message: outcome.message };
    const wrong =
      outcome.wrongCodes > 0
        ? ` A phone tried a wrong code ${outcome.wrongCodes} time${outcome.wrongCodes === 1 ? '' : 's'}.`
        : '';
    return {
      status: 'error',
      reason: outcome.code,
      message: `${outcome.message[0]!.toUpperCase()}${outcome.message.slice(1)}.${wrong}`,
    };
  }

  /** Op 14: forgets one BLE phone of `user`, or all of them. */
  async unpair(user: string, deviceId: string | undefined, peer: Peer): Promise<Answer> {
    let removed: string[] = [];
    await this.#update(user, (state) => {
      removed = state.blePhones.filter((p) => deviceId === undefined || p.deviceId === deviceId).map((p) => p.deviceId);
      return removed.length === 0
        ? null
        : { ...state, blePhones: state.blePhones.filter((p) => !removed.includes(p.deviceId)) };
    });
    if (removed.length === 0)
      return {
        status: 'error',
        reason: 'not-enrolled',
        message: deviceId
          ? `${user} has no Bluetooth phone ${deviceId} here.`
          : `${user} has no phone paired over Bluetooth here.`,
      };
    for (const id of removed)
      this.#audit(
        { event: 'unenroll', user, authenticatorId: id, result: 'ok', reason: null, remaining: null, context: 'ble' },
        peer,
      );
    return {
      status: 'ok',
      message: `Unpaired ${removed.join(', ')} for ${user}; ${removed.length === 1 ? 'that phone' : 'those phones'} can no longer unlock this computer over Bluetooth.`,
      detail: JSON.stringify({ user, removed }),
    };
  }

  /**
   * One unlock; with an accepted one, the GATT handles it used (null when it has none to keep) and,
   * when asked, the logon credential from the copy key the phone released (or why there is none).
   */
  async #unlock(
    user: string,
    budgetMs: number,
    started: number,
    wantsCredential = false,
  ): Promise<{ outcome: BleAuthOutcome; gatt: BleGattHandles | null; credential?: CredentialOpening }> {
    const none = (outcome: BleAuthOutcome) => ({ outcome, gatt: null });
    if (!this.deps.config.enabled)
      return none({ status: 'unavailable', reason: 'ble-off', sentence: 'ble-off', detail: 'ble.enabled is false' });
    const state = await this.deps.store.read(user);
    if (!state || state.blePhones.length === 0)
      return none({ status: 'unavailable', reason: 'no-phone', sentence: 'no-phone', detail: 'no BLE-paired phone' });
    let central: WorkstationCentral;
    try {
      central = await this.deps.radio.central();
    } catch (error) {
      return none({ status: 'unavailable', reason: 'ble-off', sentence: 'ble-off', detail: (error as Error).message });
    }
    const pairings = state.blePhones.map(toWorkstationPairing);
    const { windowsCredential } = state;
    const copyEphs = wantsCredential ? bleCopyEphs(state.blePhones, windowsCredential) : null;
    try {
      // The deadline counts from the request, so time queued behind another unlock is not added.
      const request = {
        pairings,
        deadline: started + budgetMs,
        approvalTimeoutMs: budgetMs,
        gattHandles: keptGattHandles(state.blePhones),
      };
      let result = await central.unlock({ ...request, ...(copyEphs && { copyEphs }) });
      // A phone that cannot release (no credential key, or an older phone) says 0x07: unlock without.
      if (copyEphs && !result.ok && result.peerCode === ErrorCode.unsupportedRequest)
        result = await central.unlock(request);
      const gatt = result.ok ? result.gattHandles : null;
      if (!wantsCredential) return { outcome: bleAuthOutcome(result), gatt };
      let credential: CredentialOpening = { ok: false, code: 'no-release', message: 'the phone released no copy key' };
      if (result.ok && result.copyKey && windowsCredential) {
        try {
          // docs/windows.md §6.6: while the password is open, the copies live holders lack.
          credential = await logonCredentialFromCopyKey(
            result.copyKey,
            windowsCredential,
            result.pairingId,
            (password) => this.#update(user, (now) => sealMissingCopiesAfterRelease(now, windowsCredential, password)),
          );
        } finally {
          result.copyKey.fill(0);
        }
      }
      return { outcome: bleAuthOutcome(result), gatt, credential };
    } finally {
      wipePairings(pairings);
    }
  }

  async #update(
    user: string,
    change: (state: UserState) => UserState | null | Promise<UserState | null>,
  ): Promise<void> {
    await this.deps.mutex.run(user, async () => {
      const state = (await this.deps.store.read(user)) ?? emptyUserState(user);
      const next = await change(state);
      if (next !== null && next !== state) await this.deps.store.write({ ...next, generation: state.generation + 1 });
    });
  }

  #audit(entry: Omit<AuditEntry, 'peer'>, peer: Peer | null): void {
    const who = peer ?? { pid: process.pid, uid: currentAccount() };
    this.deps.audit.append({ ...entry, peer: { pid: who.pid, uid: who.uid } }, this.deps.clock.now().wallMs);
  }
}
