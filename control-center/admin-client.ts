/**
 * The admin API as typed calls (docs/control-center.md "Admin API"), shared by `latchkey admin`
 * (bearer token, node:http) and the web console (session cookie and CSRF header, the browser's
 * fetch): one list of routes and answer schemas. Pure: the transport is the injected ApiClient.
 */
import type * as v from 'valibot';
import type { ApiClient } from '../platform/api-client.js';
import { RevealRecoveryPinResponseSchema } from '../protocol/online/http-bodies.js';
import { AdminTokenViewSchema, AdminTokensViewSchema, AuditViewSchema, ConsoleSessionViewSchema } from './admin-api.js';
import { DeviceViewSchema, DevicesViewSchema, EventsViewSchema, GroupViewSchema } from './admin-api.js';
import { GroupsViewSchema, InstallTokenViewSchema, InstallTokensViewSchema } from './admin-api.js';
import { LockoutResetViewSchema, OkViewSchema, SettingsViewSchema, UsersViewSchema } from './admin-api.js';
import { WorkstationDetailViewSchema, WorkstationViewSchema, WorkstationsViewSchema } from './admin-api.js';
import type { EventsQuery } from './storage/storage.js';

export type SettingsView = v.InferOutput<typeof SettingsViewSchema>;
export type WorkstationView = v.InferOutput<typeof WorkstationViewSchema>;
export type WorkstationDetailView = v.InferOutput<typeof WorkstationDetailViewSchema>;
export type InstallTokenView = v.InferOutput<typeof InstallTokenViewSchema>;
export type EventView = v.InferOutput<typeof EventsViewSchema>['events'][number];
export type AuditEntryView = v.InferOutput<typeof AuditViewSchema>['entries'][number];
export type ConsoleSessionView = v.InferOutput<typeof ConsoleSessionViewSchema>;

/** The filters of `GET /v1/admin/events`: those of the storage query behind it. */
export type EventsFilter = EventsQuery;

const seg = encodeURIComponent;
const query = (params: Record<string, string | number | undefined>) => {
  const defined = Object.entries(params).filter((entry): entry is [string, string | number] => entry[1] !== undefined);
  return defined.length === 0
    ? ''
    : `?${new URLSearchParams(defined.map(([k, value]): [string, string] => [k, String(value)]))}`;
};
const settingsPath = (group?: string) =>
  group === undefined ? '/v1/admin/settings' : `/v1/admin/groups/${seg(group)}/settings`;

export class AdminClient {
  constructor(
    private readonly api: ApiClient,
    private readonly timeoutMs: number,
  ) {}

  #call<S extends v.GenericSchema>(method: string, path: string, body: unknown, schema: S): Promise<v.InferOutput<S>> {
    return this.api.call(method, path, body, schema, { timeoutMs: this.timeoutMs });
  }

  // Workstation Settings and groups
  settings = (group?: string) => this.#call('GET', settingsPath(group), undefined, SettingsViewSchema);
  /** Replaces the overrides of the tenant (or a group); the answer carries the new revision. */
  putSettings = (overrides: Record<string, unknown>, group?: string) =>
    this.#call('PUT', settingsPath(group), overrides, SettingsViewSchema);
  groups = () => this.#call('GET', '/v1/admin/groups', undefined, GroupsViewSchema);
  createGroup = (name: string) => this.#call('POST', '/v1/admin/groups', { name }, GroupViewSchema);
  deleteGroup = (id: string) => this.#call('DELETE', `/v1/admin/groups/${seg(id)}`, undefined, OkViewSchema);

  // Install tokens
  installTokens = () => this.#call('GET', '/v1/admin/install-tokens', undefined, InstallTokensViewSchema);
  createInstallToken = (body: { groupId?: string; expiresInHours?: number; maxUses?: number; note?: string }) =>
    this.#call('POST', '/v1/admin/install-tokens', body, InstallTokenViewSchema);
  revokeInstallToken = (id: string) =>
    this.#call('DELETE', `/v1/admin/install-tokens/${seg(id)}`, undefined, InstallTokenViewSchema);

  // Fleet
  workstations = (q: { groupId?: string; after?: string; limit: number }) =>
    this.#call(
      'GET',
      `/v1/admin/workstations${query({ limit: q.limit, groupId: q.groupId, after: q.after })}`,
      undefined,
      WorkstationsViewSchema,
    );
  workstation = (id: string) =>
    this.#call('GET', `/v1/admin/workstations/${seg(id)}`, undefined, WorkstationDetailViewSchema);
  moveWorkstation = (id: string, groupId: string) =>
    this.#call('PUT', `/v1/admin/workstations/${seg(id)}/group`, { groupId }, WorkstationViewSchema);
  removeWorkstation = (id: string) =>
    this.#call('DELETE', `/v1/admin/workstations/${seg(id)}`, undefined, WorkstationViewSchema);
  unpair = (workstationId: string, deviceId: string, user: string) =>
    this.#call('POST', `/v1/admin/workstations/${seg(workstationId)}/unpair`, { deviceId, user }, OkViewSchema);
  resetLockout = (workstationId: string, user: string) =>
    this.#call('POST', `/v1/admin/workstations/${seg(workstationId)}/lockout-resets`, { user }, LockoutResetViewSchema);
  users = () => this.#call('GET', '/v1/admin/users', undefined, UsersViewSchema);
  devices = (user?: string) => this.#call('GET', `/v1/admin/devices${query({ user })}`, undefined, DevicesViewSchema);
  revokeDevice = (id: string) => this.#call('DELETE', `/v1/admin/devices/${seg(id)}`, undefined, DeviceViewSchema);

  // Audit, admin tokens, recovery PINs
  audit = (q: { limit: number; before?: number }) =>
    this.#call('GET', `/v1/admin/audit${query(q)}`, undefined, AuditViewSchema);
  events = (f: EventsFilter) =>
    this.#call(
      'GET',
      `/v1/admin/events${query({
        workstationId: f.workstationId,
        user: f.user,
        type: f.types?.join(','),
        since: f.since,
        until: f.until,
        before: f.before,
        limit: f.limit,
      })}`,
      undefined,
      EventsViewSchema,
    );
  adminTokens = () => this.#call('GET', '/v1/admin/admin-tokens', undefined, AdminTokensViewSchema);
  createAdminToken = (name: string) => this.#call('POST', '/v1/admin/admin-tokens', { name }, AdminTokenViewSchema);
  revokeAdminToken = (id: string) =>
    this.#call('DELETE', `/v1/admin/admin-tokens/${seg(id)}`, undefined, AdminTokenViewSchema);
  revealRecoveryPin = (workstationId: string, user: string) =>
    this.#call('POST', '/v1/admin/recovery-pins/reveal', { workstationId, user }, RevealRecoveryPinResponseSchema);

  // The console's session (docs/console.md)
  signIn = (adminToken: string) => this.#call('POST', '/v1/console/session', { adminToken }, ConsoleSessionViewSchema);
  session = () => this.#call('GET', '/v1/console/session', undefined, ConsoleSessionViewSchema);
  signOut = () => this.#call('DELETE', '/v1/console/session', undefined, OkViewSchema);
}

/** A cell that a spreadsheet would run as a formula is prefixed with ' (OWASP "CSV injection"). */
function csvCell(value: string | number | null): string {
  const text = value === null ? '' : String(value);
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** Uploaded events as CSV (RFC 4180, CRLF), times in ISO 8601 UTC: the console's export and `latchkey admin events --csv`. */
export function eventsToCsv(events: readonly EventView[]): string {
  const iso = (ms: number) => new Date(ms).toISOString();
  const rows = [['time', 'workstationId', 'user', 'type', 'result', 'reason', 'context', 'receivedAt', 'id']];
  for (const e of events)
    rows.push([
      iso(e.time),
      e.workstationId,
      e.user,
      e.type,
      e.result,
      e.reason ?? '',
      e.context ?? '',
      iso(e.receivedAt),
      e.id,
    ]);
  return `${rows.map((row) => row.map(csvCell).join(',')).join('\r\n')}\r\n`;
}
