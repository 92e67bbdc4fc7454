/**
 * The storage the Control Center's handlers use (docs/control-center.md "Storage interface").
 * Every method is asynchronous and atomic: a writing method checks its own preconditions and
 * appends its audit entry inside one transaction, and answers with what happened. SQLite
 * implements it today (storage/sqlite/); a PostgreSQL backend can implement it with
 * `BEGIN … COMMIT` and conditional `UPDATE … RETURNING` without touching a handler.
 */
import type { AdminToken, AuditEntry, AuditRecord, AuthRequest, Binding, Decision, Device } from './records.js';
import type { CredentialRequestBody } from '../../protocol/online/credential-release.js';
import type { FleetBinding, Group, InboxAuthRequest, InstallToken, Intent, LockoutReset, Page } from './records.js';
import type { Pairing, PoolDelivery, RecoveryPinBox, Redemption, Revision, SettingsOverrides } from './records.js';
import type { StoredEvent, Tenant, UserSummary, Workstation, WorkstationEvent } from './records.js';

export type Refusal<C extends string> = { readonly ok: false; readonly code: C };
export type Outcome<T, C extends string> = ({ readonly ok: true } & T) | Refusal<C>;

/**
 * Revokes or removes the tenant's record `id` at `now`, appending `audit` in the same
 * transaction; another tenant's record, or one already ended, is 'not-found'.
 */
export type EndById<T, C extends string = 'not-found'> = (
  tenantId: string,
  id: string,
  now: number,
  audit: AuditEntry,
) => Promise<Outcome<T, C>>;

export interface SettingsScope {
  readonly tenantId: string;
  /** Absent: the tenant's own overrides. */
  readonly groupId?: string;
}

export interface NewWorkstation {
  readonly id: string;
  readonly name: string;
  readonly publicKey: string;
  readonly installTokenSha256: string;
  readonly now: number;
}

export interface NewPairing {
  readonly id: string;
  readonly workstationId: string;
  readonly tenantId: string;
  readonly user: string;
  readonly now: number;
  readonly expiresAt: number;
}

export interface NewAuthRequest {
  readonly id: string;
  readonly workstationId: string;
  readonly user: string;
  readonly challenge: string;
  readonly intentId: string | null;
  readonly credential: CredentialRequestBody | null;
  readonly now: number;
  readonly expiresAt: number;
}

/** Filters of the uploaded events (all optional; `since`/`until` bound the event's own time, inclusive). */
export interface EventsQuery {
  readonly workstationId?: string;
  readonly user?: string;
  readonly types?: readonly string[];
  readonly since?: number;
  readonly until?: number;
  readonly before?: number;
  readonly limit: number;
}

export interface Storage {
  close(): Promise<void>;

  // Bootstrap and meta
  /** The default tenant and group; created with the schema. */
  defaultTenant(): Promise<Tenant>;
  getMeta(key: string): Promise<string | null>;
  /** Sets meta keys only where they are not set yet; answers the stored values. */
  initMeta(values: Readonly<Record<string, string>>): Promise<Record<string, string>>;

  // Settings (each change increases the revision by one)
  getTenant(tenantId: string): Promise<Tenant | null>;
  listGroups(tenantId: string): Promise<Group[]>;
  getGroup(groupId: string): Promise<Group | null>;
  createGroup(
    group: { id: string; tenantId: string; name: string; now: number },
    audit: AuditEntry,
  ): Promise<Outcome<{ group: Group }, 'name-taken'>>;
  deleteGroup(
    tenantId: string,
    groupId: string,
    audit: AuditEntry,
  ): Promise<Outcome<object, 'not-found' | 'default-group' | 'not-empty'>>;
  setOverrides(
    scope: SettingsScope,
    overrides: SettingsOverrides,
    now: number,
    audit: AuditEntry,
  ): Promise<Outcome<{ revision: Revision }, 'not-found'>>;
  revision(): Promise<Revision>;

  // Admin tokens
  createAdminToken(
    token: { id: string; tenantId: string; name: string; sha256: string; now: number },
    audit: AuditEntry,
  ): Promise<AdminToken>;
  findAdminToken(sha256: string): Promise<AdminToken | null>;
  listAdminTokens(tenantId: string): Promise<AdminToken[]>;
  revokeAdminToken: EndById<{ token: AdminToken }, 'not-found' | 'last-token'>;

  // Install tokens and enrollment
  createInstallToken(
    token: Omit<InstallToken, 'uses' | 'revokedAt'> & { sha256: string },
    audit: AuditEntry,
  ): Promise<InstallToken>;
  findInstallToken(sha256: string): Promise<InstallToken | null>;
  listInstallTokens(tenantId: string): Promise<InstallToken[]>;
  revokeInstallToken: EndById<{ token: InstallToken }>;
  /**
   * Enrolls with the install token whose SHA-256 is given, counting one use; a public key that
   * is already enrolled answers its workstation (`created: false`) without counting a use.
   */
  enrollWorkstation(
    workstation: NewWorkstation,
    audit: (result: { workstation: Workstation; created: boolean }) => AuditEntry,
  ): Promise<
    Outcome<
      { workstation: Workstation; created: boolean },
      'unknown-token' | 'revoked-token' | 'expired-token' | 'used-up-token' | 'removed'
    >
  >;

  // Workstations
  getWorkstation(id: string): Promise<Workstation | null>;
  listWorkstations(
    tenantId: string,
    query: { groupId?: string; after?: string; limit: number },
  ): Promise<Page<Workstation>>;
  moveWorkstation(
    tenantId: string,
    id: string,
    groupId: string,
    now: number,
    audit: AuditEntry,
  ): Promise<Outcome<{ workstation: Workstation; revision: Revision }, 'not-found' | 'no-group'>>;
  removeWorkstation: EndById<{ workstation: Workstation }>;

  // The fleet (docs/console.md "Fleet")
  /** Records the policy version a workstation says it holds (the NORMAL-sync connection, like last-seen times). */
  notePolicyVersion(workstationId: string, version: number): Promise<void>;
  /** Bindings of phones that are not revoked, to these workstations. */
  fleetBindings(workstationIds: readonly string[]): Promise<FleetBinding[]>;
  /** Ends one binding of a phone (the phone keeps its key and its other bindings). */
  unbindDevice(
    tenantId: string,
    binding: { deviceId: string; workstationId: string; user: string },
    audit: AuditEntry,
  ): Promise<Outcome<object, 'not-found'>>;
  createLockoutReset(
    reset: Omit<LockoutReset, 'doneAt' | 'result'>,
    audit: AuditEntry,
  ): Promise<Outcome<{ reset: LockoutReset }, 'not-found'>>;
  /** Resets not done yet, oldest first. */
  pendingLockoutResets(workstationId: string): Promise<LockoutReset[]>;
  /** Marks the workstation's reset `id` done once; a repeat answers the stored one (`created: false`). */
  finishLockoutReset(
    done: { workstationId: string; id: string; result: string; doneAt: number },
    audit: AuditEntry,
  ): Promise<Outcome<{ reset: LockoutReset; created: boolean }, 'not-found'>>;
  /** The newest resets of a workstation, done or not. */
  listLockoutResets(workstationId: string, limit: number): Promise<LockoutReset[]>;

  // Signed-request replay memory and last-seen times
  /** Remembers (keyId, nonce) until expiresAt; false when it was already remembered. */
  rememberNonce(keyId: string, nonce: string, expiresAt: number, now: number): Promise<boolean>;
  /** Deletes nonces, pairings and intents long past their expiry. */
  prune(now: number): Promise<void>;

  // Pairing, devices, bindings, users
  /** Creates a pairing; 'id-taken' when the pairing id is in use (the caller draws another). */
  createPairing(pairing: NewPairing, audit: AuditEntry): Promise<Outcome<{ pairing: Pairing }, 'id-taken'>>;
  getPairing(id: string): Promise<Pairing | null>;
  setWorkstationMac(
    id: string,
    mac: string,
    now: number,
  ): Promise<Outcome<{ pairing: Pairing }, 'not-open' | 'different-mac'>>;
  /** Counts a failed redemption; burns the pairing at `maxTries`. */
  countPairingTry(
    id: string,
    maxTries: number,
    now: number,
    audit: AuditEntry,
  ): Promise<{ tries: number; burnt: boolean }>;
  /** Redeems an open, unexpired pairing with a MAC, creating the device unless its signing key is registered. */
  redeemPairing(
    id: string,
    device: Omit<Redemption, 'deviceId'> & { newDeviceId: string },
    now: number,
    audit: (deviceId: string) => AuditEntry,
  ): Promise<
    Outcome<{ pairing: Pairing; device: Device }, 'not-open' | 'expired' | 'no-mac' | 'revoked-device' | 'key-mismatch'>
  >;
  /** Accepts (binding the device to the pairing's workstation and user) or rejects a redeemed pairing. */
  confirmPairing(
    id: string,
    accept: boolean,
    now: number,
    audit: AuditEntry,
  ): Promise<Outcome<{ pairing: Pairing }, 'not-redeemed' | 'expired'>>;
  findDeviceBySigningKey(signingKey: string): Promise<Device | null>;
  getDevice(id: string): Promise<Device | null>;
  listDevices(tenantId: string, query: { user?: string }): Promise<Array<Device & { bindings: Binding[] }>>;
  revokeDevice: EndById<{ device: Device }>;
  bindingsOfDevice(deviceId: string): Promise<Binding[]>;
  /** Devices bound to (workstation, user) and not revoked. */
  devicesFor(workstationId: string, user: string): Promise<string[]>;
  isBound(deviceId: string, workstationId: string, user: string): Promise<boolean>;
  listUsers(tenantId: string): Promise<UserSummary[]>;

  // Sign-in intents and auth requests
  createIntent(intent: Omit<Intent, 'answeredBy'>, audit: AuditEntry): Promise<Intent>;
  getIntent(id: string): Promise<Intent | null>;
  pendingIntents(workstationId: string, now: number): Promise<Intent[]>;
  /** Creates the request; with an intent, only while that intent is unanswered (then it is answered by it). */
  createAuthRequest(
    request: NewAuthRequest,
    audit: AuditEntry,
  ): Promise<Outcome<{ request: AuthRequest }, 'intent-answered'>>;
  getAuthRequest(id: string): Promise<AuthRequest | null>;
  pendingAuthRequestsForDevice(deviceId: string, now: number): Promise<InboxAuthRequest[]>;
  /** Records the first decision on an unexpired request; answers the stored one when already decided. */
  decideAuthRequest(
    id: string,
    decision: Decision,
    now: number,
    audit: AuditEntry,
  ): Promise<{ outcome: 'decided' | 'already-decided' | 'expired'; request: AuthRequest }>;

  // Pool deliveries
  /** Stores a new delivery (superseding older pending ones for the same workstation, user and device). */
  putPoolDelivery(
    delivery: Omit<PoolDelivery, 'state' | 'confirmation'>,
    audit: AuditEntry,
  ): Promise<Outcome<{ delivery: PoolDelivery; created: boolean }, 'different-body'>>;
  getPoolDelivery(id: string): Promise<PoolDelivery | null>;
  pendingPoolDeliveriesForDevice(deviceId: string): Promise<PoolDelivery[]>;
  confirmPoolDelivery(
    id: string,
    confirmation: { poolId: string; signature: string },
    now: number,
    audit: AuditEntry,
  ): Promise<Outcome<{ delivery: PoolDelivery; created: boolean }, 'superseded' | 'different-confirmation'>>;

  // Events and recovery PINs
  addEvents(
    workstationId: string,
    events: readonly WorkstationEvent[],
    now: number,
  ): Promise<{ stored: number; duplicates: number }>;
  listEvents(tenantId: string, query: EventsQuery): Promise<Page<StoredEvent>>;
  putRecoveryPin(box: Omit<RecoveryPinBox, 'revealedAt'>, audit: AuditEntry): Promise<void>;
  getRecoveryPin(workstationId: string, user: string): Promise<RecoveryPinBox | null>;
  markRecoveryPinRevealed(workstationId: string, user: string, now: number, audit: AuditEntry): Promise<void>;

  // Audit
  appendAudit(entry: AuditEntry): Promise<void>;
  listAudit(tenantId: string, query: { before?: number; limit: number }): Promise<Page<AuditRecord>>;
}
