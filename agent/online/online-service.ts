/**
 * The agent's online side (docs/online-protocol.md): enrollment, the signed policy, pairing,
 * online sign-in, replenishment, events and recovery PINs, and the background loop that keeps
 * them moving while the Control Center answers. Unmanaged workstations have none of it: every
 * call then answers "offline", and the lock screen goes straight to the offline PIN.
 */
import { abortableSleep } from '../../platform/abortable-sleep.js';
import { hostname } from 'node:os';
import { ApiError, type FetchLike } from '../../platform/api-client.js';
import { SignedPolicySchema, WorkstationInboxResponseSchema } from '../../protocol/online/http-bodies.js';
import { DEFAULT_POLICY, type Policy } from '../../protocol/policy-settings.js';
import type { AuditLog } from '../state/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import type { KdfParams } from '../offline-pin/kdf.js';
import type { KeyedMutex } from '../keyed-mutex.js';
import type { Logger } from '../../platform/log.js';
import type { Keystore } from '../../platform/keystore/keystore.js';
import type { UserStateStore } from '../state/user-state-store.js';
import { ControlCenterLink, PROBE_TIMEOUT_MS } from './control-center-link.js';
import type { OnlineContext } from './online-context.js';
import { readEnrollFile, removeEnrollFile } from './enroll-file.js';
import { enrollWorkstation } from './enrollment.js';
import { EventUploader } from './event-uploader.js';
import { LockoutResets } from './lockout-resets.js';
import { OnlineSignIn, type SignInResult } from './online-sign-in.js';
import { Pairings } from './phone-pairing.js';
import { PolicyCache } from './policy-cache.js';
import { RecoveryPins } from './recovery-pins.js';
import { Replenisher } from './replenisher.js';
import { loadIdentity, type LoadedIdentity } from './workstation-identity.js';

export interface OnlineServiceOptions {
  readonly stateDir: string;
  readonly auditFile: string;
  readonly keystore: Keystore;
  readonly store: UserStateStore;
  readonly mutex: KeyedMutex;
  readonly audit: AuditLog;
  readonly log: Logger;
  readonly clock: Clock;
  readonly kdf: KdfParams;
  /** From the config file: enroll at start when not enrolled yet. */
  readonly enrollment?:
    | { readonly url: string; readonly installToken?: string | undefined; readonly name: string }
    | undefined;
  /** The enrollment file an installer drops (docs/deployment.md): used first, deleted once used. */
  readonly enrollFile?: string | undefined;
  readonly fetch?: FetchLike;
}

const INBOX_WAIT_S = 25;
const TRANSIENT_CODES = new Set(['internal', 'rate-limited', 'bad-response']);
/** Whether enrolling again later may succeed: the CC was unreachable, busy, rate-limiting, or something in between answered. */
const isTransient = (error: unknown) => error instanceof ApiError && (error.offline || TRANSIENT_CODES.has(error.code));
const CHORES_INTERVAL_MS = 2_000;
const RECOVERY_RECONCILE_MS = 5 * 60_000;

interface Managed {
  readonly link: ControlCenterLink;
  readonly policy: PolicyCache;
  readonly signIn: OnlineSignIn;
  readonly pairings: Pairings;
  readonly replenisher: Replenisher;
  readonly events: EventUploader;
  readonly recovery: RecoveryPins;
  readonly lockoutResets: LockoutResets;
}

export class OnlineService {
  #managed: Managed | null = null;
  #stopped = false;
  readonly #abort = new AbortController();

  constructor(private readonly options: OnlineServiceOptions) {}

  get managed(): boolean {
    return this.#managed !== null;
  }

  /**
   * The signed policy in force, or null for an unmanaged workstation (then the config file's
   * applies). A managed workstation without a valid signed policy (a refused cache) runs on the
   * embedded defaults — Offline Mode off — never on the config file's policy section.
   */
  get policy(): Policy | null {
    return this.#managed ? (this.#managed.policy.settings ?? DEFAULT_POLICY) : null;
  }

  get online(): boolean {
    return this.#managed?.link.online ?? false;
  }

  get pairings(): Pairings | null {
    return this.#managed?.pairings ?? null;
  }

  /** The Control Center, whether it answers, and the signed policy in force (`latchkey doctor`), or null when not enrolled. */
  get standing(): { url: string; online: boolean; policyVersion: number | null; policyIssuedAt: number | null } | null {
    const managed = this.#managed;
    if (!managed) return null;
    const { policy } = managed;
    return {
      url: managed.link.loaded.identity.url,
      online: managed.link.online,
      policyVersion: policy.issuedAt === null ? null : policy.version,
      policyIssuedAt: policy.issuedAt,
    };
  }

  /** The name this workstation enrolled under (what the Control Center and paired phones show), or null when not enrolled. */
  get workstationName(): string | null {
    return this.#managed?.link.loaded.identity.name ?? null;
  }

  /**
   * Loads the identity and starts the background loop; a workstation the config file says to
   * enroll is enrolled in the background (retrying), never holding up the agent's start.
   */
  async start(): Promise<void> {
    const { options } = this;
    const loaded = await loadIdentity(options.stateDir, options.keystore);
    const dropped = options.enrollFile ? await readEnrollFile(options.enrollFile, options.log) : null;
    if (loaded) {
      if (dropped)
        await removeEnrollFile(options.enrollFile!, options.log, `already enrolled with ${loaded.identity.url}`);
      return this.#activate(loaded);
    }
    const enrollment = dropped
      ? {
          url: dropped.url,
          installToken: dropped.installToken,
          name: dropped.name ?? options.enrollment?.name ?? hostname(),
        }
      : options.enrollment;
    if (!enrollment?.installToken) return;
    const used = dropped
      ? () => removeEnrollFile(options.enrollFile!, options.log, 'install token used')
      : async () => {};
    void (async () => {
      for (let delay = 2_000; !this.#stopped && !this.#managed; delay = Math.min(300_000, delay * 2)) {
        try {
          await this.enroll(enrollment.url, enrollment.installToken!, enrollment.name);
          return await used();
        } catch (error) {
          options.log.error('workstation.enroll-failed', {
            url: enrollment.url,
            error: error as Error,
            retryInMs: delay,
          });
          // A refusal (bad token) will not change by retrying; an unreachable, busy or rate-limiting CC is worth waiting for.
          if (!isTransient(error)) return await used();
          await this.#sleep(delay);
        }
      }
    })();
  }

  async #activate(loaded: LoadedIdentity): Promise<void> {
    const { options } = this;
    // Requests are signed with the real wall clock (the CC checks it); the injected clock is for anti-hammering.
    const link = new ControlCenterLink(loaded, options.log, Date.now, options.fetch);
    const policy = new PolicyCache(options.stateDir, loaded.ccKey, loaded.identity.workstationId, options.log);
    await policy.load();
    const ctx: OnlineContext = {
      link,
      store: options.store,
      mutex: options.mutex,
      audit: options.audit,
      log: options.log,
      clock: options.clock,
      kdf: options.kdf,
      policy: () => policy.settings ?? DEFAULT_POLICY,
    };
    const replenisher = new Replenisher(ctx);
    this.#managed = {
      link,
      policy,
      replenisher,
      signIn: new OnlineSignIn(ctx, (user, deviceId) => replenisher.schedule(user, deviceId)),
      pairings: new Pairings(ctx),
      events: new EventUploader(ctx, options.auditFile, options.stateDir),
      recovery: new RecoveryPins(ctx),
      lockoutResets: new LockoutResets(ctx),
    };
    options.log.info('workstation.managed', {
      url: loaded.identity.url,
      workstationId: loaded.identity.workstationId,
      policyVersion: policy.version,
    });
    void this.#loop(this.#managed);
  }

  /** Enrolls now (IPC `workstation-enroll`) and starts the online side. */
  async enroll(url: string, installToken: string, name: string): Promise<void> {
    if (this.#managed)
      throw new Error(`this workstation is already enrolled with ${this.#managed.link.loaded.identity.url}`);
    await enrollWorkstation({
      stateDir: this.options.stateDir,
      keystore: this.options.keystore,
      url,
      installToken,
      name,
      log: this.options.log,
      ...(this.options.fetch ? { fetch: this.options.fetch } : {}),
    });
    const loaded = await loadIdentity(this.options.stateDir, this.options.keystore);
    if (loaded) await this.#activate(loaded);
  }

  /** Whether the lock screen should try a phone first for this user (docs/ipc.md, status `online`). */
  async canSignInOnline(user: string): Promise<boolean> {
    const managed = this.#managed;
    if (managed === null || !managed.link.online) return false;
    return managed.signIn.hasDevice(user);
  }

  /**
   * Online sign-in for the lock screen: a fresh approval from the phone, or one it gave in the last
   * minute. `wantsCredential` (a Windows lock screen from SYSTEM, docs/windows.md §6.5) asks the
   * phone for its release, so only a fresh approval serves: a tap's approval carried none.
   */
  async signIn(user: string, waitMs: number, wantsCredential = false): Promise<SignInResult> {
    const managed = this.#managed;
    if (!managed)
      return { ok: false, code: 'not-managed', message: 'this workstation is not enrolled with a Control Center' };
    const preApproved = wantsCredential ? null : managed.signIn.takePreApproval(user);
    if (preApproved) return { ok: true, deviceId: preApproved };
    if (!managed.link.online && !(await this.#probe(managed)))
      return { ok: false, code: 'offline', message: 'the Control Center cannot be reached' };
    return managed.signIn.signIn(user, waitMs, undefined, this.#abort.signal, wantsCredential);
  }

  async close(): Promise<void> {
    this.#stopped = true;
    this.#abort.abort();
    this.#managed?.replenisher.stop();
  }

  async #probe(managed: Managed): Promise<boolean> {
    try {
      await managed.policy.apply(
        await managed.link.call(
          'GET',
          '/v1/workstation/policy',
          undefined,
          SignedPolicySchema,
          PROBE_TIMEOUT_MS,
          this.#abort.signal,
        ),
      );
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The background work while managed: three loops, each backing off on its own while the CC is
   * unreachable — phone-initiated sign-ins (inbox long-poll), policy changes (long-poll on the
   * version: a change reaches this workstation within a second), and the periodic chores
   * (events, recovery PINs, interrupted deliveries when the CC comes back).
   */
  async #loop(managed: Managed): Promise<void> {
    await managed.replenisher
      .resumeAll()
      .catch((error: unknown) => this.options.log.error('replenish.resume-failed', { error: error as Error }));
    void this.#repeat('inbox', async () => {
      const inbox = await managed.link.call(
        'GET',
        `/v1/workstation/inbox?wait=${INBOX_WAIT_S}`,
        undefined,
        WorkstationInboxResponseSchema,
        (INBOX_WAIT_S + 5) * 1000,
        this.#abort.signal,
      );
      for (const intent of inbox.intents) {
        void managed.signIn.signIn(
          intent.user,
          Math.min(60_000, Math.max(5_000, intent.expiresAt - Date.now())),
          intent.intentId,
          this.#abort.signal,
        );
      }
      for (const reset of inbox.lockoutResets ?? []) await managed.lockoutResets.apply(reset, this.#abort.signal);
    });
    let reconciledVersion = -1;
    void this.#repeat('policy', async () => {
      const since = managed.policy.version;
      const signed = await managed.link.call(
        'GET',
        `/v1/workstation/policy?since=${since}&wait=${INBOX_WAIT_S}`,
        undefined,
        SignedPolicySchema,
        (INBOX_WAIT_S + 5) * 1000,
        this.#abort.signal,
      );
      await managed.policy.apply(signed);
      if (managed.policy.version !== reconciledVersion) {
        await managed.recovery.reconcile();
        reconciledVersion = managed.policy.version;
      }
    });
    let wasOnline = true;
    let lastRecovery = Date.now();
    void this.#repeat('chores', async () => {
      if (managed.link.online) {
        if (!wasOnline) await managed.replenisher.resumeAll();
        await managed.events.upload();
        if (Date.now() - lastRecovery > RECOVERY_RECONCILE_MS) {
          await managed.recovery.reconcile();
          lastRecovery = Date.now();
        }
      }
      wasOnline = managed.link.online;
      await this.#sleep(CHORES_INTERVAL_MS);
    });
  }

  /** Runs `step` until the service stops, backing off (1 s … 60 s) after a failure. */
  async #repeat(name: string, step: () => Promise<void>): Promise<void> {
    let backoff = 1_000;
    while (!this.#stopped) {
      try {
        await step();
        backoff = 1_000;
      } catch (error) {
        if (this.#stopped) return;
        if (!(error instanceof ApiError))
          this.options.log.error('online.loop-fault', { loop: name, error: error as Error });
        await this.#sleep(backoff);
        backoff = Math.min(60_000, backoff * 2);
      }
    }
  }

  #sleep(ms: number): Promise<void> {
    return abortableSleep(ms, this.#abort.signal);
  }
}
