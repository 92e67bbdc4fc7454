/**
 * What the agent does for each IPC operation (docs/ipc.md "Operations"): authorization in one
 * place, one user's work serialised, durable state before every reply, an audit entry for
 * every decision. Transport-free: ipc-server.ts feeds it decoded requests.
 */
import type { AccountId, Caller } from '../platform/ipc-transport.js';
import type { PasswordCheck } from '../platform/password-check.js';
import type { Reason, Reply, Request } from '../protocol/ipc-messages.js';
import { FRESH_HAMMERING, gate, type Gate } from './offline-pin/anti-hammering.js';
import type { AuditEntry, AuditLog } from './state/audit-log.js';
import type { Clock, ClockReading } from '../platform/clock.js';
import type { AgentConfig } from './config.js';
import { KeyedMutex } from './keyed-mutex.js';
import type { Logger } from '../platform/log.js';
import { acceptedMessage, reasonMessage, remainingMessage } from './messages.js';
import { issuePool, type VerifierFunction } from './offline-pin/offline-pin-pool.js';
import { DAY_MS, isLow, type Policy } from '../protocol/policy-settings.js';
import { policyOrigin } from './policy-origin.js';
import { OnlineOps } from './online/online-ops.js';
import type { PairingCaller } from './online/pairing.js';
import { BleOps } from './ble/ble-ops.js';
import { describeBlePhone } from './ble/ble-phones.js';
import type { BleRadio } from './ble/ble-radio.js';
import type { OnlineService } from './online/online-service.js';
import { KeyUnavailableError } from './state/sealing-key.js';
import { DEFAULT_AUTHENTICATOR_ID, MAX_POOLS_PER_USER, emptyUserState, expiresAtMs, isExpired, pinCountOf, remainingOf, type UserState } from './state/user-state.js';
import type { WallClockFloor } from './state/wall-clock-floor.js';
import { StateUnreadableError, type SealingKeys, type UserStateStore } from './state/user-state-store.js';
import { noUsablePoolReason, usablePools, verifyOfflinePin } from './offline-pin/verify-offline-pin.js';

/** Who asks, as the OS vouches for it (platform/ipc-transport.ts): the uid it may ask for, the account it counts against, whether it is an administrator. */
export type Peer = Caller;

export interface AgentServiceDeps {
  readonly config: AgentConfig;
  readonly store: UserStateStore;
  readonly keys: () => Promise<SealingKeys>;
  readonly clock: Clock;
  readonly audit: AuditLog;
  readonly log: Logger;
  readonly host: string;
  readonly lookupUid: (user: string) => Promise<AccountId | null>;
  readonly passwordCheck: PasswordCheck;
  readonly verifier?: VerifierFunction;
  readonly wallFloor: WallClockFloor;
  /** Serialises each user's read-modify-write; shared with the online side (agent/online/). */
  readonly mutex: KeyedMutex;
  /** The online side; its signed policy replaces the config file's once the workstation is enrolled. */
  readonly online: OnlineService;
  /** The Bluetooth adapter, opened on first use (agent/ble/). */
  readonly radio: BleRadio;
}

type Refusal = Pick<Reply, 'status' | 'reason' | 'message'>;

const error = (reason: NonNullable<Reply['reason']>, message: string): Refusal => ({ status: 'error', reason, message });

/** Whole seconds left of a running delay, if one runs. */
function retryAfterSeconds(open: Gate): number | undefined {
  return !open.open && open.reason === 'hammering-delay' ? Math.ceil(open.retryAfterMs / 1000) : undefined;
}

export class AgentService {
  readonly #mutex: KeyedMutex;

  readonly #onlineOps: OnlineOps;

  readonly #bleOps: BleOps;

  constructor(private readonly deps: AgentServiceDeps) {
    this.#mutex = deps.mutex;
    this.#onlineOps = new OnlineOps(deps.online, deps.log);
    const { config, store, mutex, audit, log, clock, host, radio } = deps;
    // One name per workstation: the one it enrolled under, else the host name (docs/ble-protocol.md §12.1).
    this.#bleOps = new BleOps({ config: config.ble, store, mutex, audit, log, clock, workstationName: () => deps.online.workstationName ?? host, radio });
  }

  /** The policy in force: signed by the Control Center when enrolled, else the config file's. */
  #policy(): Policy {
    return this.deps.online.policy ?? this.deps.config.policy;
  }

  /** Answers one request; never throws (an internal fault is `unavailable/internal-error`). */
  async handle(request: Request, peer: Peer): Promise<Reply> {
    const requestId = request.requestId;
    try {
      const denied = await this.#authorize(request, peer);
      if (denied) return { requestId, ...denied };
      switch (request.op) {
        case 'status':
          return { requestId, ...(await this.#status(request.user, request.lockScreen === true)) };
        case 'verify':
          return { requestId, ...(await this.#verify(request.user, request.pin, request.context, peer)) };
        case 'enroll':
          return { requestId, ...(await this.#enroll(request.user, request.authenticator ?? DEFAULT_AUTHENTICATOR_ID, request.password, peer)) };
        case 'reset':
          return { requestId, ...(await this.#reset(request.user, request.discardState, peer)) };
        case 'unenroll':
          return { requestId, ...(await this.#unenroll(request.user, request.authenticator, peer)) };
        case 'list':
          return { requestId, ...(await this.#list()) };
        case 'online-auth':
          return { requestId, ...(await this.#onlineOps.signIn(request.user, request.wait, request.context)) };
        case 'pair':
          return { requestId, ...(await this.#pair(request.user, request.password, peer)) };
        case 'pair-finish':
          return { requestId, ...(await this.#onlineOps.finishPairing(request.user, request.pairingId, request.wait, this.#caller(peer))) };
        case 'workstation-enroll':
          return { requestId, ...(await this.#onlineOps.enroll(request.url, request.token, request.name)) };
        case 'ble-auth':
          return { requestId, ...(await this.#bleOps.auth(request.user, request.wait, request.context, peer)) };
        case 'ble-pair':
          // As for enroll: a pairing for a name that is no user here is a typo, not a credential.
          if ((await this.deps.lookupUid(request.user)) === null) return { requestId, ...error('unknown-user', `there is no user ${JSON.stringify(request.user)} on this computer`) };
          return { requestId, ...(await this.#bleOps.pair(request.user)) };
        case 'ble-pair-finish':
          return { requestId, ...(await this.#bleOps.finishPairing(request.user, request.pairingId, request.wait, peer)) };
        case 'ble-unpair':
          return { requestId, ...(await this.#bleOps.unpair(request.user, request.authenticator, peer)) };
      }
    } catch (fault) {
      return { requestId, ...this.#fault(fault, request.op, 'user' in request ? request.user : undefined) };
    }
  }

  /**
   * docs/ipc.md "Peer credentials": root may ask anything; others only about themselves. Pairing
   * a phone over Bluetooth makes a credential without a password check, so it is root's.
   */
  async #authorize(request: Request, peer: Peer): Promise<Refusal | null> {
    if (this.#isAdmin(peer)) return null;
    if (!('user' in request) || request.op === 'reset' || request.op === 'ble-pair' || request.op === 'ble-pair-finish') return error('permission-denied', `only root may ask for ${request.op}`);
    const uid = await this.deps.lookupUid(request.user);
    if (uid === null) return error('unknown-user', `there is no user ${JSON.stringify(request.user)} on this computer`);
    if (uid !== peer.uid) return error('permission-denied', `uid ${peer.uid} may only ask about its own user, not ${JSON.stringify(request.user)}`);
    return null;
  }

  #now(): ClockReading {
    const now = this.deps.clock.now();
    this.deps.wallFloor.observe(now.wallMs);
    return now;
  }

  #audit(entry: Omit<AuditEntry, 'peer'>, peer: Peer, now: ClockReading): void {
    this.deps.audit.append({ ...entry, peer: { pid: peer.pid, uid: peer.uid } }, now.wallMs);
  }

  /** Root, or the uid the agent itself runs as (a per-user agent's owner administers it): the transport says. */
  #isAdmin(peer: Peer): boolean {
    return peer.admin;
  }

  #caller(peer: Peer): PairingCaller {
    return { uid: peer.uid, admin: this.#isAdmin(peer) };
  }

  #fault(fault: unknown, op: string, user: string | undefined): Refusal {
    const reason = fault instanceof StateUnreadableError ? 'state-unreadable' : fault instanceof KeyUnavailableError ? 'keystore-unavailable' : 'internal-error';
    this.deps.log.error(`${op}.failed`, { user, reason, error: fault as Error });
    return { status: 'unavailable', reason, message: reasonMessage(reason) };
  }

  /** A lock screen's status (lockScreen) leaves out `detail`, which only the CLI reads. */
  async #status(user: string, lockScreen: boolean): Promise<Omit<Reply, 'requestId'>> {
    const policy = this.#policy();
    const stored = await this.deps.store.read(user);
    const state = stored ?? emptyUserState(user);
    const now = this.#now();
    const floor = this.deps.wallFloor.floorMs;
    // Every pool a PIN would be accepted from, pending ones included (usablePools); and a recovery
    // PIN an admin may have revealed, so the prompt is there to type it.
    const pools = usablePools(state, policy, now, floor);
    const recovery = policy.recoveryPin && state.recovery !== null;
    const remaining = pools.reduce((sum, pool) => sum + remainingOf(pool), 0);
    const low = pools.length > 0 && isLow(remaining, pools.reduce((sum, pool) => sum + pinCountOf(pool), 0), policy);
    const open = gate(state.hammering, now);
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
      online: await this.deps.online.canSignInOnline(user),
      ble: this.#bleOps.canUnlock(stored),
      usable: pools.length > 0 || (recovery && policy.offlineMode),
      remaining,
      low,
      locked: !open.open,
      ...(retryAfter !== undefined ? { retryAfter } : {}),
      message,
      ...(lockScreen ? {} : { detail: JSON.stringify({ ...this.#statusDetail(state, now), ...(await this.#setupDetail()) }) }),
    };
  }

  /** Where the policy came from, the Control Center, the keystore and Bluetooth, for `latchkey doctor` (docs/ipc.md, status detail). */
  async #setupDetail() {
    const { config, online } = this.deps;
    const standing = online.standing;
    const policy = policyOrigin(online, config);
    const keystoreReady = await this.deps.keys().then(() => true, () => false);
    return {
      policy,
      controlCenter: standing && { url: standing.url, online: standing.online },
      keystore: { backend: config.keystore.backend, ready: keystoreReady },
      ble: { enabled: config.ble.enabled, transport: config.ble.transport },
    };
  }

  #statusDetail(state: UserState, now: ClockReading) {
    const policy = this.#policy();
    const open = gate(state.hammering, now);
    const floor = Math.max(state.wallHighWaterMs, this.deps.wallFloor.floorMs);
    return {
      user: state.user,
      offlineMode: policy.offlineMode,
      // A pending pool (sent to the phone after a sign-in, not used yet) is listed too: its PINs work already.
      pools: [...state.pools.map((pool) => [pool, false] as const), ...state.pendingPools.map((pending) => [pending.pool, true] as const)].map(([pool, pending]) => ({
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

  async #verify(user: string, pin: Uint8Array, context: string, peer: Peer): Promise<Omit<Reply, 'requestId'>> {
    const started = performance.now();
    return this.#mutex.run(user, async () => {
      const state = await this.deps.store.read(user);
      const keys = await this.deps.keys();
      const now = this.#now();
      const { decision, nextState } = await verifyOfflinePin({
        user, state, policy: this.#policy(), pin, now, wallFloorMs: this.deps.wallFloor.floorMs, tagKey: keys.tagKey, verifier: this.deps.verifier,
      });
      if (nextState !== null) await this.deps.store.write(nextState);
      this.#audit(
        {
          event: 'verify', user, authenticatorId: decision.ok ? decision.authenticatorId : null, result: decision.status,
          reason: decision.ok ? null : decision.reason, remaining: decision.ok ? decision.remaining : null, context,
        },
        peer,
        now,
      );
      // ms: from the request to a durable, audited decision (bench/agent-verify.mjs reads it).
      // Logged once the reply is on its way: the log line is not part of the decision.
      const fields = { user, result: decision.status, reason: decision.ok ? undefined : decision.reason, context, ms: Number((performance.now() - started).toFixed(3)) };
      setImmediate(() => this.deps.log.info('verify', fields));
      if (decision.ok) return { status: 'accepted', remaining: decision.remaining, low: decision.low, message: acceptedMessage(decision.remaining, decision.low) };
      const reply: Omit<Reply, 'requestId'> = { status: decision.status, reason: decision.reason, message: reasonMessage(decision.reason, decision.retryAfterSeconds) };
      if (decision.retryAfterSeconds !== undefined) reply.retryAfter = decision.retryAfterSeconds;
      return reply;
    });
  }

  /**
   * What makes a new credential for `user` (an enrollment, a phone paired online) legitimate:
   * root, or the user's own password checked through the self-enrollment PAM service. A moment
   * of code execution as the user must not become a lasting passwordless login (docs/security.md).
   */
  async #proveSelf(op: 'enroll' | 'pair', user: string, password: Uint8Array | undefined, peer: Peer, needPassword: string): Promise<Refusal | null> {
    if (this.#isAdmin(peer)) {
      return (await this.deps.lookupUid(user)) === null ? error('unknown-user', `there is no user ${JSON.stringify(user)} on this computer`) : null;
    }
    if (password === undefined) return error('permission-denied', needPassword);
    const checked = await this.deps.passwordCheck({ service: this.deps.config.selfEnrollPamService, user, password });
    if (checked.ok) return null;
    this.deps.log.warn(`${op}.password-check`, { user, result: checked.code });
    return error(checked.code, checked.code === 'password-rejected' ? 'the password was not accepted' : `the password could not be checked: ${checked.message}`);
  }

  /** docs/ipc.md op 8: root, or the user with their password while the policy allows self-pairing; audited either way. */
  async #pair(user: string, password: Uint8Array | undefined, peer: Peer): Promise<Omit<Reply, 'requestId'>> {
    const now = this.#now();
    const audit = (result: string, reason: string | null, authenticatorId: string | null = null) =>
      this.#audit({ event: 'pairing', user, authenticatorId, result, reason, remaining: null, context: null }, peer, now);
    if (!this.#isAdmin(peer) && !this.#policy().selfPairing) {
      audit('refused', 'self-pairing-off');
      return error('permission-denied', 'your administrator has turned off pairing phones yourself: ask them to pair your phone');
    }
    const unproven = await this.#proveSelf('pair', user, password, peer, 'pairing your own phone needs your password (latchkey pair asks for it)');
    if (unproven) {
      if (unproven.reason !== 'unknown-user') audit('refused', unproven.reason ?? null);
      return unproven;
    }
    const answer = await this.#onlineOps.pair(user, this.#caller(peer));
    audit(answer.status === 'ok' ? 'started' : 'refused', answer.status === 'ok' ? (this.#isAdmin(peer) ? 'by-root' : 'password-checked') : (answer.reason ?? null));
    return answer;
  }

  async #enroll(user: string, authenticatorId: string, password: Uint8Array | undefined, peer: Peer): Promise<Omit<Reply, 'requestId'>> {
    const { config } = this.deps;
    const policy = this.#policy();
    if (this.deps.online.managed) return error('permission-denied', 'this computer is enrolled with a Control Center: offline PINs come from signing in with your phone (latchkey pair)');
    if (!policy.offlineMode) return { status: 'unavailable', reason: 'offline-mode-off', message: reasonMessage('offline-mode-off') };
    const unproven = await this.#proveSelf('enroll', user, password, peer, 'enrolling yourself needs your password (latchkey enroll asks for it)');
    if (unproven) return unproven;
    return this.#mutex.run(user, async () => {
      const state = (await this.deps.store.read(user)) ?? emptyUserState(user);
      const others = state.pools.filter((pool) => pool.authenticatorId !== authenticatorId);
      if (others.length >= MAX_POOLS_PER_USER) return error('bad-field', `a user may have at most ${MAX_POOLS_PER_USER} authenticators`);
      const now = this.#now();
      const { pool, importUri } = await issuePool({
        user, host: this.deps.host, authenticatorId, format: { charset: policy.pinCharset, length: policy.pinLength },
        pinCount: policy.pinCount, kdf: config.kdf, now, verifier: this.deps.verifier,
      });
      // An enrollment is an authenticated event (root, or the user's password): it clears anti-hammering.
      await this.deps.store.write({
        ...state, generation: state.generation + 1, wallHighWaterMs: Math.max(state.wallHighWaterMs, now.wallMs), pools: [...others, pool], hammering: FRESH_HAMMERING,
      });
      this.#audit({ event: 'enroll', user, authenticatorId, result: 'ok', reason: null, remaining: pool.limit, context: null }, peer, now);
      this.deps.log.info('enroll', { user, authenticatorId, pinCount: pool.limit });
      const expiresAt = new Date(pool.issuedAtMs + policy.offlineAccessDays * DAY_MS).toISOString();
      return {
        status: 'ok',
        secret: importUri,
        remaining: pool.limit,
        message: `Enrolled ${authenticatorId} for ${user}: ${pool.limit} offline PINs, valid until ${expiresAt.slice(0, 10)}.`,
        detail: JSON.stringify({ user, authenticatorId, charset: pool.charset, length: pool.length, pinCount: pool.limit, expiresAt }),
      };
    });
  }

  async #reset(user: string, discardState: boolean, peer: Peer): Promise<Omit<Reply, 'requestId'>> {
    return this.#mutex.run(user, async () => {
      const now = this.#now();
      let discarded = false;
      if (discardState) {
        discarded = await this.deps.store.discard(user, now.wallMs);
      } else {
        const state = await this.deps.store.read(user);
        if (state !== null) await this.deps.store.write({ ...state, generation: state.generation + 1, hammering: FRESH_HAMMERING });
      }
      this.#audit({ event: 'reset', user, authenticatorId: null, result: 'ok', reason: discardState ? 'discard-state' : null, remaining: null, context: null }, peer, now);
      this.deps.log.info('reset', { user, discardState, discarded });
      return {
        status: 'ok',
        message: discardState
          ? discarded ? `Set ${user}'s offline PIN state aside; ${user} must enroll again.` : `${user} had no offline PIN state.`
          : `Cleared failed attempts for ${user}; offline PINs work again.`,
        detail: JSON.stringify({ user, discarded }),
      };
    });
  }

  async #unenroll(user: string, authenticatorId: string, peer: Peer): Promise<Omit<Reply, 'requestId'>> {
    return this.#mutex.run(user, async () => {
      const state = await this.deps.store.read(user);
      if (state === null || !state.pools.some((pool) => pool.authenticatorId === authenticatorId)) {
        return error('not-enrolled', `${user} has no offline PINs for ${authenticatorId}`);
      }
      const now = this.#now();
      await this.deps.store.write({ ...state, generation: state.generation + 1, pools: state.pools.filter((pool) => pool.authenticatorId !== authenticatorId) });
      this.#audit({ event: 'unenroll', user, authenticatorId, result: 'ok', reason: null, remaining: null, context: null }, peer, now);
      return { status: 'ok', message: `Removed ${authenticatorId}'s offline PINs for ${user}.` };
    });
  }

  async #list(): Promise<Omit<Reply, 'requestId'>> {
    const { states, unreadable } = await this.deps.store.list();
    const now = this.#now();
    return { status: 'ok', detail: JSON.stringify({ users: states.map((state) => this.#statusDetail(state, now)), unreadable }) };
  }
}

