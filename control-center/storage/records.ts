/**
 * What the Control Center stores (docs/control-center.md "Data layout"), as plain records the
 * handlers and every storage backend share. Keys are base64url text as on the wire; token
 * hashes are SHA-256 in hex; times are unix milliseconds.
 */
import type { Policy } from '../../protocol/policy-settings.js';
import type { CredentialRequestBody, ReleaseBody } from '../../protocol/online/credential-release.js';

/** The settings keys a tenant or group overrides (validated before they are stored). */
export type SettingsOverrides = Partial<Policy>;

export interface Tenant {
  readonly id: string;
  readonly name: string;
  readonly overrides: SettingsOverrides;
  readonly createdAt: number;
}

export interface Group {
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  readonly isDefault: boolean;
  readonly overrides: SettingsOverrides;
  readonly createdAt: number;
  /** Workstations in the group that are not removed. */
  readonly workstations: number;
}

/** The settings revision: grows by one with every settings change anywhere (the policy version). */
export interface Revision {
  readonly revision: number;
  readonly at: number;
}

export interface AdminToken {
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  readonly createdAt: number;
  readonly revokedAt: number | null;
}

export interface InstallToken {
  readonly id: string;
  readonly tenantId: string;
  readonly groupId: string;
  readonly note: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly maxUses: number;
  readonly uses: number;
  readonly revokedAt: number | null;
}

export interface Workstation {
  readonly id: string;
  readonly tenantId: string;
  readonly groupId: string;
  readonly name: string;
  readonly publicKey: string;
  readonly installTokenId: string | null;
  readonly enrolledAt: number;
  readonly lastSeenAt: number | null;
  readonly removedAt: number | null;
  /** The policy version the workstation last said it holds (`since` of its policy long-poll). */
  readonly policyVersion: number | null;
}

export interface Device {
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  readonly signingKey: string;
  readonly boxKey: string;
  readonly createdAt: number;
  readonly lastSeenAt: number | null;
  readonly revokedAt: number | null;
}

/** A device bound to (workstation, user) by an accepted pairing. */
export interface Binding {
  readonly deviceId: string;
  readonly workstationId: string;
  readonly user: string;
  readonly createdAt: number;
}

export type PairingState = 'open' | 'redeemed' | 'confirmed' | 'rejected' | 'burnt';

/** What the phone sent at redemption, kept exactly as MACed so the agent can check it. */
export interface Redemption {
  readonly deviceId: string;
  readonly signingKey: string;
  readonly boxKey: string;
  readonly name: string;
  /** The phone's credential key for this pairing (docs/windows.md §6.3), when it sent one. */
  readonly credentialKey?: string;
  readonly deviceMac: string;
}

export interface Pairing {
  readonly id: string;
  readonly tenantId: string;
  readonly workstationId: string;
  readonly user: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly workstationMac: string | null;
  readonly tries: number;
  readonly state: PairingState;
  readonly redemption: Redemption | null;
}

export interface Intent {
  readonly id: string;
  readonly workstationId: string;
  readonly user: string;
  readonly deviceId: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly answeredBy: string | null;
}

export interface Decision {
  readonly deviceId: string;
  readonly decision: 'approve' | 'deny';
  readonly signedAt: number;
  readonly signature: string;
  /** Relayed, never interpreted: k sealed to the request key (docs/windows.md §6.5). */
  readonly release?: ReleaseBody;
}

export interface AuthRequest {
  readonly id: string;
  readonly workstationId: string;
  readonly user: string;
  readonly challenge: string;
  readonly intentId: string | null;
  readonly createdAt: number;
  readonly expiresAt: number;
  /** The workstation's signed credential request, relayed to the phone as it came (docs/windows.md §6.5). */
  readonly credential: CredentialRequestBody | null;
  readonly decision: Decision | null;
}

/** An auth request as a device's inbox lists it. */
export interface InboxAuthRequest extends AuthRequest {
  readonly workstationName: string;
}

export type PoolDeliveryState = 'pending' | 'confirmed' | 'superseded';

export interface PoolDelivery {
  readonly id: string;
  readonly workstationId: string;
  readonly user: string;
  readonly deviceId: string;
  /** Canonical JSON of the PUT body ({user, deviceId, envelope}): what idempotency compares. */
  readonly body: string;
  readonly createdAt: number;
  readonly state: PoolDeliveryState;
  readonly confirmation: { readonly poolId: string; readonly signature: string; readonly confirmedAt: number } | null;
}

/** A phone bound to a user on one workstation, as the fleet view lists it. */
export interface FleetBinding extends Binding {
  readonly deviceName: string;
  readonly deviceLastSeenAt: number | null;
}

/** An admin's request that a workstation clear a user's failed-attempt ladder (docs/console.md "Fleet"). */
export interface LockoutReset {
  readonly id: string;
  readonly tenantId: string;
  readonly workstationId: string;
  readonly user: string;
  readonly requestedAt: number;
  /** The audit actor who asked. */
  readonly requestedBy: string;
  readonly doneAt: number | null;
  /** `cleared`, or `no-state` when the workstation had nothing to clear. */
  readonly result: string | null;
}

export interface WorkstationEvent {
  readonly id: string;
  readonly time: number;
  readonly type: string;
  readonly user: string;
  readonly result: string;
  readonly reason: string | null;
  readonly context: string | null;
  /** This many more identical refusals came between `since` and `time` (counted by the agent). */
  readonly repeated?: number | undefined;
  readonly since?: number | undefined;
}

export interface StoredEvent extends WorkstationEvent {
  readonly workstationId: string;
  readonly receivedAt: number;
}

export interface RecoveryPinBox {
  readonly workstationId: string;
  readonly user: string;
  readonly eph: string;
  readonly nonce: string;
  readonly ciphertext: string;
  readonly storedAt: number;
  readonly revealedAt: number | null;
}

export type AuditDetail = Readonly<Record<string, string | number | boolean | null>>;

/** One audit line: who (actor), from where, did what to which target, with what result. */
export interface AuditEntry {
  readonly time: number;
  readonly tenantId: string | null;
  /** `admin:at_…`, `workstation:ws_…`, `device:dev_…`, `anonymous` or `system`; never a secret. */
  readonly actor: string;
  readonly address: string | null;
  readonly action: string;
  readonly target: string | null;
  readonly result: string;
  readonly detail: AuditDetail | null;
}

export interface AuditRecord extends AuditEntry {
  readonly id: number;
}

export interface UserSummary {
  readonly user: string;
  readonly createdAt: number;
  readonly devices: readonly string[];
  readonly workstations: readonly string[];
}

export interface Page<T> {
  readonly items: readonly T[];
  /** Pass as `before`/`after` for the next page; null at the end. */
  readonly next: string | number | null;
}
