/**
 * Bodies of the admin API (docs/control-center.md "Admin API"), shared by the server, which
 * validates requests with them, and `latchkey admin`, which validates answers with them.
 */
import * as v from 'valibot';
import { EVENT_TYPES, idSchema, SettingsSchema } from '../protocol/online/http-bodies.js';
import type { Policy } from '../protocol/policy-settings.js';
import { describeIssues } from '../protocol/schema-issues.js';

const name = v.pipe(
  v.string(),
  v.minLength(1, 'must not be empty'),
  v.maxLength(128, 'must be at most 128 characters'),
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what this pattern is for
  v.regex(/^[^\u0000-\u001f\u007f]+$/, 'must not contain control characters'),
);
const int = (min: number, max: number) =>
  v.pipe(
    v.number(`must be a whole number from ${min} to ${max}`),
    v.integer(`must be a whole number from ${min} to ${max}`),
    v.minValue(min, `must be from ${min} to ${max}`),
    v.maxValue(max, `must be from ${min} to ${max}`),
  );
const millis = v.number();
const nullableMillis = v.nullable(v.number());
/** The answer that lists records of one kind under `key`. */
const listOf = <K extends string, S extends v.GenericSchema>(key: K, item: S) =>
  v.object({ [key]: v.array(item) } as { [P in K]: v.ArraySchema<S, undefined> });

export const INSTALL_TOKEN_DEFAULT_HOURS = 168;
export const INSTALL_TOKEN_DEFAULT_USES = 1000;

// Requests
export const CreateGroupRequestSchema = v.strictObject({ name });
export const CreateInstallTokenRequestSchema = v.strictObject({
  groupId: v.optional(idSchema('g')),
  expiresInHours: v.optional(int(1, 8760)),
  maxUses: v.optional(int(1, 1_000_000)),
  note: v.optional(v.pipe(v.string(), v.maxLength(200, 'must be at most 200 characters'))),
});
export const MoveWorkstationRequestSchema = v.strictObject({ groupId: idSchema('g') });
export const CreateAdminTokenRequestSchema = v.strictObject({ name });
export const ConsoleSignInRequestSchema = v.strictObject({
  adminToken: v.pipe(v.string(), v.maxLength(128, 'must be an admin token')),
});
const user = v.pipe(
  v.string(),
  v.minLength(1, 'must not be empty'),
  v.maxLength(256, 'must be at most 256 bytes'),
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what this pattern is for
  v.regex(/^[^/\u0000-\u001f\u007f]+$/, 'must be a user name'),
);
export const UnpairRequestSchema = v.strictObject({ deviceId: idSchema('dev'), user });
export const LockoutResetRequestSchema = v.strictObject({ user });
/** The kinds of unlock the console's audit filters by, and the event types each one is (docs/console.md "Pages"). */
export const UNLOCK_KINDS = {
  online: ['online-auth'],
  offline: ['verify'],
  bluetooth: ['ble-auth'],
  recovery: ['recovery-pin'],
} as const;
export { EVENT_TYPES };

/**
 * The one check on Workstation Settings sent by an admin: the schema the Control Center
 * refuses a PUT with, and the sentence it answers — the console shows the same one before sending.
 */
export function checkSettings(input: unknown): { ok: true; settings: Policy } | { ok: false; message: string } {
  const parsed = v.safeParse(SettingsSchema, input, { abortEarly: false });
  return parsed.success ? { ok: true, settings: parsed.output } : { ok: false, message: describeIssues(parsed.issues) };
}

// Answers
const Overrides = v.record(v.string(), v.union([v.boolean(), v.number(), v.string()]));
export const SettingsViewSchema = v.object({
  scope: v.picklist(['tenant', 'group']),
  tenantId: v.string(),
  groupId: v.nullable(v.string()),
  name: v.string(),
  overrides: Overrides,
  effective: Overrides,
  revision: v.number(),
});
export const GroupViewSchema = v.object({
  groupId: v.string(),
  name: v.string(),
  isDefault: v.boolean(),
  workstations: v.number(),
  overrides: Overrides,
  createdAt: millis,
});
export const InstallTokenViewSchema = v.object({
  installTokenId: v.string(),
  groupId: v.string(),
  note: v.string(),
  createdAt: millis,
  expiresAt: millis,
  maxUses: v.number(),
  uses: v.number(),
  revokedAt: nullableMillis,
  /** Only in the answer that creates it: the token itself, shown once. */
  token: v.optional(v.string()),
});
export const WorkstationViewSchema = v.object({
  workstationId: v.string(),
  name: v.string(),
  groupId: v.string(),
  enrolledAt: millis,
  lastSeenAt: nullableMillis,
  removedAt: nullableMillis,
  installTokenId: v.nullable(v.string()),
  /** The policy version it last said it holds; null before its first policy poll. */
  policyVersion: v.optional(v.nullable(v.number())),
  /** Users with a paired phone there, and how many phones. */
  users: v.optional(v.array(v.string())),
  phones: v.optional(v.number()),
});
export const LockoutResetViewSchema = v.object({
  resetId: v.string(),
  user: v.string(),
  requestedAt: millis,
  requestedBy: v.string(),
  doneAt: nullableMillis,
  result: v.nullable(v.string()),
});
export const WorkstationDetailViewSchema = v.object({
  workstation: WorkstationViewSchema,
  phones: v.array(
    v.object({
      deviceId: v.string(),
      name: v.string(),
      user: v.string(),
      pairedAt: millis,
      lastSeenAt: nullableMillis,
    }),
  ),
  lockoutResets: v.array(LockoutResetViewSchema),
});
export const WorkstationsViewSchema = v.object({
  workstations: v.array(WorkstationViewSchema),
  next: v.nullable(v.string()),
});
export const UsersViewSchema = v.object({
  users: v.array(
    v.object({ user: v.string(), createdAt: millis, devices: v.array(v.string()), workstations: v.array(v.string()) }),
  ),
});
export const DeviceViewSchema = v.object({
  deviceId: v.string(),
  name: v.string(),
  createdAt: millis,
  lastSeenAt: nullableMillis,
  revokedAt: nullableMillis,
  bindings: v.array(v.object({ workstationId: v.string(), user: v.string(), createdAt: millis })),
});
export const AuditViewSchema = v.object({
  entries: v.array(
    v.object({
      id: v.number(),
      time: millis,
      actor: v.string(),
      address: v.nullable(v.string()),
      action: v.string(),
      target: v.nullable(v.string()),
      result: v.string(),
      detail: v.nullable(v.record(v.string(), v.union([v.string(), v.number(), v.boolean(), v.null()]))),
    }),
  ),
  next: v.nullable(v.number()),
});
export const EventsViewSchema = v.object({
  events: v.array(
    v.object({
      id: v.string(),
      workstationId: v.string(),
      time: millis,
      type: v.string(),
      user: v.string(),
      result: v.string(),
      reason: v.nullable(v.string()),
      context: v.nullable(v.string()),
      receivedAt: millis,
      repeated: v.optional(v.number()),
      since: v.optional(millis),
    }),
  ),
  next: v.nullable(v.number()),
});
export const AdminTokenViewSchema = v.object({
  adminTokenId: v.string(),
  name: v.string(),
  createdAt: millis,
  revokedAt: nullableMillis,
  token: v.optional(v.string()),
});
export const OkViewSchema = v.object({ ok: v.literal(true) });
export const ConsoleSessionViewSchema = v.object({
  csrfToken: v.string(),
  adminTokenId: v.string(),
  adminTokenName: v.string(),
  idleSeconds: v.number(),
  expiresAt: millis,
});

// Answers that list one kind of record
export const GroupsViewSchema = listOf('groups', GroupViewSchema);
export const InstallTokensViewSchema = listOf('installTokens', InstallTokenViewSchema);
export const DevicesViewSchema = listOf('devices', DeviceViewSchema);
export const AdminTokensViewSchema = listOf('adminTokens', AdminTokenViewSchema);
