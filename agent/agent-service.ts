/**
 * Who may ask what, and who answers (docs/ipc.md "Operations"): authorization in one place —
 * the peer's own user or an administrator, a password for a credential made without root — then
 * each operation goes to OfflineOps (ops 1–6), OnlineOps (7–10) or BleOps (11–14), which
 * serialise one user's work, make state durable before the reply and audit every decision.
 * Transport-free: ipc-server.ts feeds it decoded requests.
 */
import type { AccountId, Caller } from '../platform/ipc-transport.js';
import type { Clock, ClockReading } from '../platform/clock.js';
import type { Logger } from '../platform/log.js';
import type { PasswordCheck } from '../platform/password-check.js';
import type { Reply, Request } from '../protocol/ipc-messages.js';
import type { Policy } from '../protocol/policy-settings.js';
import { BleOps } from './ble/ble-ops.js';
import type { BleRadio } from './ble/ble-radio.js';
import type { AgentConfig } from './config.js';
import type { KeyedMutex } from './keyed-mutex.js';
import { STALE_CREDENTIAL_MESSAGE, reasonMessage } from './sentences.js';
import { OfflineOps } from './offline-pin/offline-ops.js';
import type { VerifierFunction } from './offline-pin/offline-pin-pool.js';
import { OnlineOps } from './online/online-ops.js';
import type { OnlineService } from './online/online-service.js';
import type { PairingCaller } from './online/phone-pairing.js';
import { agentSetup } from './policy-origin.js';
import type { AuditEntry, AuditLog } from './state/audit-log.js';
import { KeyUnavailableError } from './state/sealing-key.js';
import { DEFAULT_AUTHENTICATOR_ID } from './state/user-state.js';
import { StateUnreadableError, type SealingKeys, type UserStateStore } from './state/user-state-store.js';
import type { UserState } from './state/user-state.js';
import type { ConnectionFacts } from './ipc-connection.js';
import {
  captureCredential,
  credentialHandback,
  mayCapture,
  windowsAccountOf,
} from './offline-pin/credential-copies.js';
import { wipe } from '../protocol/bytes.js';
import { MAX_PASSWORD_UNITS, unitsProblem, utf16leOfUtf8 } from '../protocol/windows-logon-credential.js';
import type { WallClockFloor } from './state/wall-clock-floor.js';

/** A local account as the OS names it: its canonical name and its id (a SID on Windows). */
export interface Account {
  readonly name: string;
  readonly uid: AccountId;
}

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
  /** The account as the OS spells it (`DOMAIN\\name` on Windows) with its id: whose password a capture keeps. */
  readonly lookupAccount: (user: string) => Promise<Account | null>;
  readonly passwordCheck: PasswordCheck;
  readonly verifier?: VerifierFunction;
  readonly wallFloor: WallClockFloor;
  /** Serialises each user's read-modify-write; shared with the online side (agent/online/). */
  readonly mutex: KeyedMutex;
  /** The online side; its signed policy replaces the config file's once the workstation is enrolled. */
  readonly online: OnlineService;
  /** The Bluetooth adapter, opened on first use (agent/ble/). */
  readonly radio: BleRadio;
  /** The OS the agent decides for: only on win32 is the Windows password captured and handed back (docs/windows.md §5–6). */
  readonly platformName: NodeJS.Platform;
  /** The domain of a local Windows account (docs/windows.md §5): the computer's NetBIOS name. */
  readonly computerName: string;
}

type Refusal = Pick<Reply, 'status' | 'reason' | 'message'>;

const error = (reason: NonNullable<Reply['reason']>, message: string): Refusal => ({
  status: 'error',
  reason,
  message,
});

/** An accepted unlock while the saved password is stale: no credential, and the sentence that says why (docs/windows.md §6.6). */
function withStale(answer: Omit<Reply, 'requestId'>, stale: boolean): Omit<Reply, 'requestId'> {
  return stale && answer.status === 'accepted' ? { ...answer, stale, message: STALE_CREDENTIAL_MESSAGE } : answer;
}

export class AgentService {
  readonly #offlineOps: OfflineOps;

  readonly #onlineOps: OnlineOps;

  readonly #bleOps: BleOps;

  constructor(private readonly deps: AgentServiceDeps) {
    this.#onlineOps = new OnlineOps(deps.online, deps.log);
    const { config, store, mutex, audit, log, clock, host, radio, online, wallFloor } = deps;
    // One name per workstation: the one it enrolled under, else the host name (docs/ble-protocol.md §12.1).
    this.#bleOps = new BleOps({
      config: config.ble,
      store,
      mutex,
      audit,
      log,
      clock,
      workstationName: () => online.workstationName ?? host,
      radio,
    });
    this.#offlineOps = new OfflineOps({
      store,
      keys: deps.keys,
      mutex,
      log,
      host,
      kdf: config.kdf,
      verifier: deps.verifier,
      policy: () => this.#policy(),
      wallFloorMs: () => wallFloor.floorMs,
      now: () => this.#now(),
      audit: (entry, peer, now) => this.#audit(entry, peer, now),
      managed: () => online.managed,
      others: {
        online: (user) => online.canSignInOnline(user),
        ble: (state) => this.#bleOps.canUnlock(state),
        setup: () => agentSetup(online, config, deps.keys),
      },
    });
  }

  /** The policy in force: signed by the Control Center when enrolled, else the config file's. */
  #policy(): Policy {
    return this.deps.online.policy ?? this.deps.config.policy;
  }

  /** Answers one request; never throws (an internal fault is `unavailable/internal-error`). */
  async handle(asked: Request, peer: Peer, connection: ConnectionFacts = { lockScreen: false }): Promise<Reply> {
    const requestId = asked.requestId;
    let request = asked;
    try {
      const spelled = await this.#accountSpelling(asked);
      request = spelled.request;
      const denied = await this.#authorize(request, peer, spelled.account);
      if (denied) return { requestId, ...denied };
      switch (request.op) {
        case 'status': {
          const answer = await this.#offlineOps.status(request.user, request.lockScreen === true);
          // docs/windows.md §6.6: the system's tile learns that Windows refused the saved password; the
          // sentence says so unless a reason (no pool, a delay, a lockout) has something more pressing to say.
          const stale =
            mayCapture(this.#where(connection, peer)) && (await this.#offlineOps.credentialStale(request.user));
          if (!stale) return { requestId, ...answer };
          return {
            requestId,
            ...answer,
            stale,
            ...(answer.reason === undefined ? { message: STALE_CREDENTIAL_MESSAGE } : {}),
          };
        }
        case 'verify': {
          // docs/windows.md §5: the logon credential only to the system's lock-screen connection, on Windows.
          const { give, stale } = await this.#handback(connection, peer, 'verify', request.user);
          return {
            requestId,
            ...withStale(await this.#offlineOps.verify(request.user, request.pin, request.context, peer, give), stale),
          };
        }
        case 'enroll': {
          const { user, password } = request;
          // docs/windows.md §6.1: on Windows a password given at enrollment is checked, even an administrator's, and kept wrapped.
          const keep = this.deps.platformName === 'win32' && password !== undefined;
          const prove = () =>
            this.#proveSelf(
              'enroll',
              user,
              password,
              peer,
              'enrolling yourself needs your password (latchkey enroll asks for it)',
              keep,
            );
          const capture = keep ? (state: UserState) => this.#capture(user, password, state) : undefined;
          return {
            requestId,
            ...(await this.#offlineOps.enroll(
              user,
              request.authenticator ?? DEFAULT_AUTHENTICATOR_ID,
              peer,
              prove,
              capture,
            )),
          };
        }
        case 'reset':
          return { requestId, ...(await this.#offlineOps.reset(request.user, request.discardState, peer)) };
        case 'unenroll':
          return { requestId, ...(await this.#offlineOps.unenroll(request.user, request.authenticator, peer)) };
        case 'list':
          return { requestId, ...(await this.#offlineOps.list()) };
        case 'online-auth': {
          // docs/windows.md §6.5: the phone is asked to release the password under the same rule as verify's handback.
          const { give, stale } = await this.#handback(connection, peer, 'online-auth', request.user);
          return {
            requestId,
            ...withStale(await this.#onlineOps.signIn(request.user, request.wait, request.context, give), stale),
          };
        }
        case 'pair':
          return { requestId, ...(await this.#pair(request.user, request.password, peer)) };
        case 'pair-finish':
          return {
            requestId,
            ...(await this.#onlineOps.finishPairing(request.user, request.pairingId, request.wait, this.#caller(peer))),
          };
        case 'workstation-enroll':
          return { requestId, ...(await this.#onlineOps.enroll(request.url, request.token, request.name)) };
        case 'ble-auth': {
          const { give, stale } = await this.#handback(connection, peer, 'ble-auth', request.user);
          return {
            requestId,
            ...withStale(await this.#bleOps.auth(request.user, request.wait, request.context, peer, give), stale),
          };
        }
        case 'ble-pair':
          // As for enroll: a pairing for a name that is no user here is a typo, not a credential.
          if ((await this.deps.lookupUid(request.user)) === null)
            return {
              requestId,
              ...error('unknown-user', `there is no user ${JSON.stringify(request.user)} on this computer`),
            };
          return { requestId, ...(await this.#bleOps.pair(request.user)) };
        case 'ble-pair-finish':
          return {
            requestId,
            ...(await this.#bleOps.finishPairing(request.user, request.pairingId, request.wait, peer)),
          };
        case 'ble-unpair':
          return { requestId, ...(await this.#bleOps.unpair(request.user, request.authenticator, peer)) };
        case 'credential-capture':
          return { requestId, ...(await this.#credentialCapture(request.user, request.password, peer, connection)) };
        case 'credential-refused':
          // docs/ipc.md op 16: the same caller as a capture, the only one that was handed the credential.
          if (!mayCapture(this.#where(connection, peer)))
            return {
              requestId,
              ...error('permission-denied', 'only the Windows sign-in screen may say Windows refused a password'),
            };
          return {
            requestId,
            ...(await this.#offlineOps.markCredentialRefused(request.user, request.generation, peer)),
          };
      }
    } catch (fault) {
      return { requestId, ...this.#fault(fault, request.op, 'user' in request ? request.user : undefined) };
    }
  }

  /**
   * On Windows one account has several spellings (`alice`, `DESK-042\\alice`, another case): the
   * request is about the account as the OS spells it (`LookupAccountNameW`, then its SID's name), so
   * the CLI's `--user alice` and the lock screen's `DESK-042\\alice` keep one state (docs/windows.md
   * §3). A name the OS does not know stays as typed, and is refused where an account is needed.
   * On Linux a user name has one spelling: nothing to do. The account found is handed on, so
   * #authorize does not ask the OS again (a domain account's lookup waits on a domain controller).
   */
  async #accountSpelling(request: Request): Promise<{ request: Request; account?: Account | null }> {
    if (this.deps.platformName !== 'win32' || !('user' in request)) return { request };
    const account = await this.deps.lookupAccount(request.user);
    return {
      request: account && account.name !== request.user ? { ...request, user: account.name } : request,
      account,
    };
  }

  /**
   * docs/ipc.md "Peer credentials": root may ask anything; others only about themselves. Pairing
   * a phone over Bluetooth makes a credential without a password check, so it is root's.
   */
  async #authorize(request: Request, peer: Peer, known?: Account | null): Promise<Refusal | null> {
    if (this.#isAdmin(peer)) return null;
    if (!('user' in request) || request.op === 'reset' || request.op === 'ble-pair' || request.op === 'ble-pair-finish')
      return error('permission-denied', `only root may ask for ${request.op}`);
    const uid = known === undefined ? await this.deps.lookupUid(request.user) : (known?.uid ?? null);
    if (uid === null) return error('unknown-user', `there is no user ${JSON.stringify(request.user)} on this computer`);
    if (uid !== peer.uid)
      return error(
        'permission-denied',
        `uid ${peer.uid} may only ask about its own user, not ${JSON.stringify(request.user)}`,
      );
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

  /**
   * Whether this unlock may hand back the logon credential (credentialHandback), and whether
   * Windows refused the current capture's password: then it is not handed back (docs/windows.md §6.6).
   */
  async #handback(connection: ConnectionFacts, peer: Peer, op: 'verify' | 'online-auth' | 'ble-auth', user: string) {
    const { give } = credentialHandback({ ...this.#where(connection, peer), op });
    const stale = give && (await this.#offlineOps.credentialStale(user));
    return { give: give && !stale, stale };
  }

  #where(connection: ConnectionFacts, peer: Peer) {
    return { platform: this.deps.platformName, lockScreen: connection.lockScreen, caller: peer };
  }

  /**
   * The state with the password (UTF-8, as the request carried it; already checked by the OS) kept
   * wrapped to every live holder (docs/windows.md §6.6 "capture"); unchanged, and said in the log,
   * when it cannot be a Windows logon credential. The caller wipes `password`.
   */
  async #capture(user: string, password: Uint8Array, state: UserState): Promise<UserState> {
    const found = await this.deps.lookupAccount(user);
    const account = found && windowsAccountOf(found.name, found.uid, this.deps.computerName);
    const units = utf16leOfUtf8(password);
    try {
      if (account === null || units === null || unitsProblem(units, MAX_PASSWORD_UNITS) !== null) {
        this.deps.log.warn('credential.not-kept', { user, reason: account === null ? 'account' : 'password-form' });
        return state;
      }
      return await captureCredential(state, account, units);
    } finally {
      wipe(units);
    }
  }

  /**
   * docs/ipc.md op 15: the password a person just signed in with at the tile, which LSA accepted:
   * only from the system's lock-screen connection, on Windows; checked by the OS again, then kept.
   */
  async #credentialCapture(
    user: string,
    password: Uint8Array,
    peer: Peer,
    connection: ConnectionFacts,
  ): Promise<Omit<Reply, 'requestId'>> {
    if (!mayCapture(this.#where(connection, peer)))
      return error('permission-denied', 'only the Windows sign-in screen may hand over a password');
    const checked = await this.deps.passwordCheck({ service: this.deps.config.selfEnrollPamService, user, password });
    if (!checked.ok) {
      this.deps.log.warn('credential-capture.password-check', { user, result: checked.code });
      return error(
        checked.code,
        checked.code === 'password-rejected'
          ? 'the password was not accepted'
          : `the password could not be checked: ${checked.message}`,
      );
    }
    return this.#offlineOps.keepCredential(user, peer, (state) => this.#capture(user, password, state));
  }

  #caller(peer: Peer): PairingCaller {
    return { uid: peer.uid, admin: this.#isAdmin(peer) };
  }

  #fault(fault: unknown, op: string, user: string | undefined): Refusal {
    const reason =
      fault instanceof StateUnreadableError
        ? 'state-unreadable'
        : fault instanceof KeyUnavailableError
          ? 'keystore-unavailable'
          : 'internal-error';
    this.deps.log.error(`${op}.failed`, { user, reason, error: fault as Error });
    return { status: 'unavailable', reason, message: reasonMessage(reason) };
  }

  /**
   * What makes a new credential for `user` (an enrollment, a phone paired online) legitimate:
   * root, or the user's own password checked through the self-enrollment PAM service. A moment
   * of code execution as the user must not become a lasting passwordless login (docs/security.md).
   */
  async #proveSelf(
    op: 'enroll' | 'pair',
    user: string,
    password: Uint8Array | undefined,
    peer: Peer,
    needPassword: string,
    checkEvenForAdmin = false,
  ): Promise<Refusal | null> {
    if (this.#isAdmin(peer)) {
      if ((await this.deps.lookupUid(user)) === null)
        return error('unknown-user', `there is no user ${JSON.stringify(user)} on this computer`);
      if (!checkEvenForAdmin) return null;
    }
    if (password === undefined) return error('permission-denied', needPassword);
    const checked = await this.deps.passwordCheck({ service: this.deps.config.selfEnrollPamService, user, password });
    if (checked.ok) return null;
    this.deps.log.warn(`${op}.password-check`, { user, result: checked.code });
    return error(
      checked.code,
      checked.code === 'password-rejected'
        ? 'the password was not accepted'
        : `the password could not be checked: ${checked.message}`,
    );
  }

  /** docs/ipc.md op 8: root, or the user with their password while the policy allows self-pairing; audited either way. */
  async #pair(user: string, password: Uint8Array | undefined, peer: Peer): Promise<Omit<Reply, 'requestId'>> {
    const now = this.#now();
    const audit = (result: string, reason: string | null, authenticatorId: string | null = null) =>
      this.#audit(
        { event: 'pairing', user, authenticatorId, result, reason, remaining: null, context: null },
        peer,
        now,
      );
    if (!this.#isAdmin(peer) && !this.#policy().selfPairing) {
      audit('refused', 'self-pairing-off');
      return error(
        'permission-denied',
        'your administrator has turned off pairing phones yourself: ask them to pair your phone',
      );
    }
    const unproven = await this.#proveSelf(
      'pair',
      user,
      password,
      peer,
      'pairing your own phone needs your password (latchkey pair asks for it)',
    );
    if (unproven) {
      if (unproven.reason !== 'unknown-user') audit('refused', unproven.reason ?? null);
      return unproven;
    }
    const answer = await this.#onlineOps.pair(user, this.#caller(peer));
    audit(
      answer.status === 'ok' ? 'started' : 'refused',
      answer.status === 'ok' ? (this.#isAdmin(peer) ? 'by-root' : 'password-checked') : (answer.reason ?? null),
    );
    return answer;
  }
}
