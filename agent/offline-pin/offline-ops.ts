/**
 * The offline-PIN operations (docs/ipc.md ops 1–6: status, verify, enroll, reset, unenroll,
 * list) beside OnlineOps and BleOps. AgentService has authorized the caller; here one user's
 * work is serialised, the state is durable before the reply, and every decision is audited.
 */
import type { ClockReading } from '../../platform/clock.js';
import type { Logger } from '../../platform/log.js';
import type { Reason, Reply } from '../../protocol/ipc-messages.js';
import { DAY_MS, isLow, type Policy } from '../../protocol/policy-settings.js';
import type { Peer } from '../agent-service.js';
import { describeBlePhone } from '../ble/ble-phones.js';
import type { KeyedMutex } from '../keyed-mutex.js';
import { STALE_CREDENTIAL_MESSAGE, acceptedMessage, reasonMessage, remainingMessage } from '../sentences.js';
import type { AuditEntry } from '../state/audit-log.js';
import { MAX_POOLS_PER_USER, emptyUserState, expiresAtMs, isExpired, pinCountOf } from '../state/user-state.js';
import { remainingOf, type UserState } from '../state/user-state.js';
import type { SealingKeys, UserStateStore } from '../state/user-state-store.js';
import { FRESH_HAMMERING, attemptGate, type AttemptGate } from './anti-hammering.js';
import type { KdfParams } from './kdf.js';
import { issuePool, type VerifierFunction } from './offline-pin-pool.js';
import { noUsablePoolReason, usablePools, verifyOfflinePin, type VerifyResult } from './verify-offline-pin.js';
import { handBack } from './credential-copies.js';
import { markStale, withLiveCopies } from '../state/windows-credential.js';
import { wipe } from '../../protocol/bytes.js';

type Answer = Omit<Reply, 'requestId'>;
type Refusal = Pick<Reply, 'status' | 'reason' | 'message'>;

export interface OfflineOpsDeps {
  readonly store: UserStateStore;
  readonly keys: () => Promise<SealingKeys>;
  readonly mutex: KeyedMutex;
  readonly log: Logger;
  readonly host: string;
  readonly kdf: KdfParams;
  readonly verifier?: VerifierFunction | undefined;
  /** The policy in force (the Control Center's signed one, else the config file's). */
  readonly policy: () => Policy;
  /** The wall-clock floor pool expiry never goes below (state/wall-clock-floor.ts). */
  readonly wallFloorMs: () => number;
  /** Now, on both clocks (the floor raised to it). */
  readonly now: () => ClockReading;
  readonly audit: (entry: Omit<AuditEntry, 'peer'>, peer: Peer, now: ClockReading) => void;
  /** Enrolled with a Control Center: offline PINs then come from signing in with the phone. */
  readonly managed: () => boolean;
  /** What a status says of the other ways in, and (for the CLI) of the agent's setup. */
  readonly others: {
    online(user: string): Promise<boolean>;
    ble(state: UserState | null): boolean;
    setup(): Promise<Record<string, unknown>>;
  };
}

const error = (reason: NonNullable<Reply['reason']>, message: string): Refusal => ({
  status: 'error',
  reason,
  message,
});

/** Whole seconds left of a running delay, if one runs. */
function retryAfterSeconds(open: AttemptGate): number | undefined {
  return !open.open && open.reason === 'hammering-delay' ? Math.ceil(open.retryAfterMs / 1000) : undefined;
}

export class OfflineOps {
  constructor(private readonly deps: OfflineOpsDeps) {}

  /** A lock screen's status (lockScreen) leaves out `detail`, which only the CLI reads. */
  async status(user: string, lockScreen: boolean): Promise<Answer> {
    const policy = this.deps.policy();
    const stored = await this.deps.store.read(user);
    const state = stored ?? emptyUserState(user);
    const now = this.deps.now();
    const floor = this.deps.wallFloorMs();
    // Every pool a PIN would be accepted from, pending ones included (usablePools); and a recovery
    // PIN an admin may have revealed, so the prompt is there to type it.
    const pools = usablePools(state, policy, now, floor);
    const recovery = policy.recoveryPin && state.recovery !== null;
    const remaining = pools.reduce((sum, pool) => sum + remainingOf(pool), 0);
    const low =
      pools.length > 0 &&
      isLow(
        remaining,
        pools.reduce((sum, pool) => sum + pinCountOf(pool), 0),
        policy,
      );
    const open = attemptGate(state.hammering, now);
    const retryAfter = retryAfterSeconds(open);
    // The reason tells a lock screen why it should not prompt (docs/ipc.md, status).
    const reason: Reason | undefined = !policy.offlineMode
      ? 'offline-mode-off'
      : !open.open
        ? open.reason
        : pools.length === 0
          ? noUsablePoolReason(state, policy, now, floor)
          : undefined;
    const message = reason === undefined ? remainingMessage(remaining, low) : reasonMessage(reason, retryAfter);
    return {
      status: 'ok',
      ...(reason !== undefined ? { reason } : {}),
      offlineMode: policy.offlineMode,
      online: await this.deps.others.online(user),
      ble: this.deps.others.ble(stored),
      usable: pools.length > 0 || (recovery && policy.offlineMode),
      remaining,
      low,
      locked: !open.open,
      ...(retryAfter !== undefined ? { retryAfter } : {}),
      message,
      ...(lockScreen
        ? {}
        : { detail: JSON.stringify({ ...this.#statusDetail(state, now), ...(await this.deps.others.setup()) }) }),
    };
  }

  #statusDetail(state: UserState, now: ClockReading) {
    const policy = this.deps.policy();
    const open = attemptGate(state.hammering, now);
    const floor = Math.max(state.wallHighWaterMs, this.deps.wallFloorMs());
    return {
      user: state.user,
      offlineMode: policy.offlineMode,
      // A pending pool (sent to the phone after a sign-in, not used yet) is listed too: its PINs work already.
      pools: [
        ...state.pools.map((pool) => [pool, false] as const),
        ...state.pendingPools.map((pending) => [pending.pool, true] as const),
      ].map(([pool, pending]) => ({
        authenticatorId: pool.authenticatorId,
        charset: pool.charset,
        length: pool.length,
        remaining: remainingOf(pool),
        pinCount: pinCountOf(pool),
        issuedAt: new Date(pool.issuedAtMs).toISOString(),
        expiresAt: new Date(expiresAtMs(pool, policy.offlineAccessDays, now, floor)).toISOString(),
        expired: isExpired(pool, policy.offlineAccessDays, now, floor),
        pending,
      })),
      failures: state.hammering.failures,
      locked: !open.open,
      retryAfter: retryAfterSeconds(open) ?? null,
      disabled: state.hammering.disabled,
      blePhones: state.blePhones.map(describeBlePhone),
    };
  }

  /**
   * `withCredential`: the caller may receive the Windows logon credential (credentialHandback, docs/windows.md §5);
   * an accepted PIN's copy is then opened and handed back as `secret`, durable state first.
   */
  async verify(user: string, pin: Uint8Array, context: string, peer: Peer, withCredential = false): Promise<Answer> {
    const started = performance.now();
    return this.deps.mutex.run(user, async () => {
      const state = await this.deps.store.read(user);
      const keys = await this.deps.keys();
      const now = this.deps.now();
      const result = await verifyOfflinePin({
        user,
        state,
        policy: this.deps.policy(),
        pin,
        now,
        wallFloorMs: this.deps.wallFloorMs(),
        tagKey: keys.tagKey,
        verifier: this.deps.verifier,
        wantCredentialSeed: withCredential,
      });
      const { decision } = result;
      const { nextState, secret, credential } = await this.#handBack(state, result, withCredential);
      try {
        if (nextState !== null) await this.deps.store.write(nextState);
      } catch (fault) {
        wipe(secret);
        throw fault;
      }
      this.deps.audit(
        {
          event: 'verify',
          user,
          authenticatorId: decision.ok ? decision.authenticatorId : null,
          result: decision.status,
          reason: decision.ok ? null : decision.reason,
          remaining: decision.ok ? decision.remaining : null,
          context,
        },
        peer,
        now,
      );
      // ms: from the request to a durable, audited decision (bench/agent-verify.mjs reads it).
      // Logged once the reply is on its way: the log line is not part of the decision.
      const fields = {
        user,
        result: decision.status,
        reason: decision.ok ? undefined : decision.reason,
        context,
        ...(credential !== undefined ? { credential } : {}),
        ms: Number((performance.now() - started).toFixed(3)),
      };
      setImmediate(() => this.deps.log.info('verify', fields));
      if (decision.ok)
        return {
          status: 'accepted',
          remaining: decision.remaining,
          low: decision.low,
          message: acceptedMessage(decision.remaining, decision.low),
          // The capture the credential came from: the tile names it if Windows refuses the password (op 16).
          ...(secret !== null ? { secret, generation: state!.windowsCredential!.generation } : {}),
        };
      const reply: Answer = {
        status: decision.status,
        reason: decision.reason,
        message: reasonMessage(decision.reason, decision.retryAfterSeconds),
      };
      if (decision.retryAfterSeconds !== undefined) reply.retryAfter = decision.retryAfterSeconds;
      return reply;
    });
  }

  /**
   * The accepted PIN's copy opened, the copies other holders lack sealed while the password is at
   * hand, and the logon credential (docs/windows.md §5, §6.6) — or, for any failure, the accepted
   * state as it was and no credential: the PIN is still accepted. `credential` says which, for the log.
   */
  async #handBack(
    state: UserState | null,
    result: VerifyResult,
    withCredential: boolean,
  ): Promise<{ nextState: UserState | null; secret: Uint8Array | null; credential?: string }> {
    const none = { nextState: result.nextState, secret: null };
    if (!withCredential || !result.decision.ok) return none;
    const { pinKey, nextState } = result;
    if (pinKey === undefined) return { ...none, credential: 'no-copy' };
    try {
      if (state === null || nextState === null) return { ...none, credential: 'no-copy' };
      const handed = await handBack(state, nextState, pinKey);
      return { nextState: handed.nextState, secret: handed.secret, credential: handed.opening };
    } catch (fault) {
      this.deps.log.error('verify.credential-fault', { user: state?.user, error: fault as Error });
      return { ...none, credential: 'internal-error' };
    } finally {
      wipe(pinKey.seed);
    }
  }

  /**
   * A capture outside an enrollment (credential-capture, docs/ipc.md op 15): `keep` wraps the
   * password into the state, written durably before the reply.
   */
  async keepCredential(user: string, peer: Peer, keep: (state: UserState) => Promise<UserState>): Promise<Answer> {
    return this.deps.mutex.run(user, async () => {
      const state = await this.deps.store.read(user);
      if (state === null)
        return error('not-enrolled', `${user} has no offline PINs or phones here to keep a password for`);
      const kept = await keep(state);
      const now = this.deps.now();
      if (kept !== state) await this.deps.store.write({ ...kept, generation: state.generation + 1 });
      const generation = kept.windowsCredential?.generation ?? null;
      this.deps.audit(
        {
          event: 'credential-capture',
          user,
          authenticatorId: null,
          result: kept !== state ? 'ok' : 'refused',
          reason: kept !== state ? null : 'not-kept',
          remaining: null,
          context: null,
        },
        peer,
        now,
      );
      this.deps.log.info('credential-capture', { user, kept: kept !== state, generation });
      return kept !== state
        ? { status: 'ok', message: 'Latchkey keeps your new Windows password for your offline PINs and phones.' }
        : error('bad-field', 'this password cannot be kept for Windows sign-in');
    });
  }

  /** Whether Windows refused the password of the current capture (docs/windows.md §6.6): none is handed back then. */
  async credentialStale(user: string): Promise<boolean> {
    return (await this.deps.store.read(user))?.windowsCredential?.stale === true;
  }

  /**
   * credential-refused (docs/ipc.md op 16): Windows refused the handed-back password of capture
   * `generation`; the current capture is marked stale, durably, before the reply (markStale).
   */
  async markCredentialRefused(user: string, generation: number, peer: Peer): Promise<Answer> {
    return this.deps.mutex.run(user, async () => {
      const state = await this.deps.store.read(user);
      if (state === null) return error('not-enrolled', `${user} has no offline PINs or phones here`);
      const { credential, mark } = markStale(state.windowsCredential, generation);
      const now = this.deps.now();
      if (mark === 'marked')
        await this.deps.store.write({ ...state, windowsCredential: credential, generation: state.generation + 1 });
      this.deps.audit(
        {
          event: 'credential-refused',
          user,
          authenticatorId: null,
          result: mark === 'marked' || mark === 'already-stale' ? 'ok' : 'ignored',
          reason: mark,
          remaining: null,
          context: null,
        },
        peer,
        now,
      );
      this.deps.log.info('credential-refused', { user, generation, mark, current: credential?.generation ?? null });
      const stale = credential?.stale === true;
      return { status: 'ok', stale, ...(stale ? { message: STALE_CREDENTIAL_MESSAGE } : {}) };
    });
  }

  /**
   * `prove` is the caller's proof (root, or the user's password), run once the cheap checks pass;
   * `capture` (Windows, with a password: docs/windows.md §6.1) wraps the password into the new state.
   */
  async enroll(
    user: string,
    authenticatorId: string,
    peer: Peer,
    prove: () => Promise<Refusal | null>,
    capture?: (state: UserState) => Promise<UserState>,
  ): Promise<Answer> {
    const policy = this.deps.policy();
    if (this.deps.managed())
      return error(
        'permission-denied',
        'this computer is enrolled with a Control Center: offline PINs come from signing in with your phone (latchkey pair)',
      );
    if (!policy.offlineMode)
      return { status: 'unavailable', reason: 'offline-mode-off', message: reasonMessage('offline-mode-off') };
    const unproven = await prove();
    if (unproven) return unproven;
    return this.deps.mutex.run(user, async () => {
      const state = (await this.deps.store.read(user)) ?? emptyUserState(user);
      const others = state.pools.filter((pool) => pool.authenticatorId !== authenticatorId);
      if (others.length >= MAX_POOLS_PER_USER)
        return error('bad-field', `a user may have at most ${MAX_POOLS_PER_USER} authenticators`);
      const now = this.deps.now();
      const { pool, importUri } = await issuePool({
        user,
        host: this.deps.host,
        authenticatorId,
        format: { charset: policy.pinCharset, length: policy.pinLength },
        pinCount: policy.pinCount,
        kdf: this.deps.kdf,
        now,
        verifier: this.deps.verifier,
      });
      // An enrollment is an authenticated event (root, or the user's password): it clears anti-hammering.
      const enrolled: UserState = {
        ...state,
        generation: state.generation + 1,
        wallHighWaterMs: Math.max(state.wallHighWaterMs, now.wallMs),
        pools: [...others, pool],
        hammering: FRESH_HAMMERING,
      };
      // The replaced pool's copies leave with it; the new pool's PINs get theirs in this same write.
      await this.deps.store.write(capture ? await capture(withLiveCopies(enrolled)) : enrolled);
      this.deps.audit(
        { event: 'enroll', user, authenticatorId, result: 'ok', reason: null, remaining: pool.limit, context: null },
        peer,
        now,
      );
      this.deps.log.info('enroll', { user, authenticatorId, pinCount: pool.limit });
      const expiresAt = new Date(pool.issuedAtMs + policy.offlineAccessDays * DAY_MS).toISOString();
      return {
        status: 'ok',
        secret: importUri,
        remaining: pool.limit,
        message: `Enrolled ${authenticatorId} for ${user}: ${pool.limit} offline PINs, valid until ${expiresAt.slice(0, 10)}.`,
        detail: JSON.stringify({
          user,
          authenticatorId,
          charset: pool.charset,
          length: pool.length,
          pinCount: pool.limit,
          expiresAt,
        }),
      };
    });
  }

  async reset(user: string, discardState: boolean, peer: Peer): Promise<Answer> {
    return this.deps.mutex.run(user, async () => {
      const now = this.deps.now();
      let discarded = false;
      if (discardState) {
        discarded = await this.deps.store.discard(user, now.wallMs);
      } else {
        const state = await this.deps.store.read(user);
        if (state !== null)
          await this.deps.store.write({ ...state, generation: state.generation + 1, hammering: FRESH_HAMMERING });
      }
      this.deps.audit(
        {
          event: 'reset',
          user,
          authenticatorId: null,
          result: 'ok',
          reason: discardState ? 'discard-state' : null,
          remaining: null,
          context: null,
        },
        peer,
        now,
      );
      this.deps.log.info('reset', { user, discardState, discarded });
      return {
        status: 'ok',
        message: discardState
          ? discarded
            ? `Set ${user}'s offline PIN state aside; ${user} must enroll again.`
            : `${user} had no offline PIN state.`
          : `Cleared failed attempts for ${user}; offline PINs work again.`,
        detail: JSON.stringify({ user, discarded }),
      };
    });
  }

  async unenroll(user: string, authenticatorId: string, peer: Peer): Promise<Answer> {
    return this.deps.mutex.run(user, async () => {
      const state = await this.deps.store.read(user);
      if (state === null || !state.pools.some((pool) => pool.authenticatorId === authenticatorId)) {
        return error('not-enrolled', `${user} has no offline PINs for ${authenticatorId}`);
      }
      const now = this.deps.now();
      await this.deps.store.write({
        ...state,
        generation: state.generation + 1,
        pools: state.pools.filter((pool) => pool.authenticatorId !== authenticatorId),
      });
      this.deps.audit(
        { event: 'unenroll', user, authenticatorId, result: 'ok', reason: null, remaining: null, context: null },
        peer,
        now,
      );
      return { status: 'ok', message: `Removed ${authenticatorId}'s offline PINs for ${user}.` };
    });
  }

  async list(): Promise<Answer> {
    const { states, unreadable } = await this.deps.store.list();
    const now = this.deps.now();
    return {
      status: 'ok',
      detail: JSON.stringify({ users: states.map((state) => this.#statusDetail(state, now)), unreadable }),
    };
  }
}
