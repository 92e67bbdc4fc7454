/**
 * `latchkey admin …`: the Control Center's admin API from a shell (docs/control-center.md
 * "latchkey admin"). The token comes from --token-file or LATCHKEY_ADMIN_TOKEN, never from the
 * command line; answers are validated with the schemas in control-center/admin-api.ts.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import * as v from 'valibot';
import {
  AdminTokenViewSchema, AdminTokensViewSchema, AuditViewSchema, DeviceViewSchema, DevicesViewSchema, EventsViewSchema, GroupViewSchema, GroupsViewSchema,
  InstallTokenViewSchema, InstallTokensViewSchema, OkViewSchema, SettingsViewSchema, UsersViewSchema, WorkstationViewSchema, WorkstationsViewSchema,
} from '../../control-center/admin-api.js';
import { nodeFetch } from '../node-fetch.js';
import { ApiClient, ApiError } from '../../protocol/online/api-client.js';
import { RevealRecoveryPinResponseSchema } from '../../protocol/online/messages.js';
import { CliError, EXIT } from '../exit-codes.js';
import { integerOption, userOption } from '../options.js';

interface Globals { url?: string; tokenFile?: string; json?: boolean; timeout: number }
type Print = (text: string) => void;
const print: Print = (text) => void process.stdout.write(`${text}\n`);
const when = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'));

function adminToken(globals: Globals): string {
  let token = process.env.LATCHKEY_ADMIN_TOKEN;
  if (globals.tokenFile !== undefined) {
    try {
      token = readFileSync(globals.tokenFile, 'utf8').trim();
    } catch (error) {
      throw new CliError(`--token-file ${globals.tokenFile} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  if (!token) throw new CliError('no admin token: pass --token-file FILE or set LATCHKEY_ADMIN_TOKEN', EXIT.usage);
  return token;
}

/** One admin call: the answer validated, any refusal turned into a sentence and exit code 1. */
async function call<S extends v.GenericSchema>(command: Command, method: string, path: string, body: unknown, schema: S): Promise<v.InferOutput<S>> {
  const globals = command.optsWithGlobals<Globals>();
  const url = globals.url ?? process.env.LATCHKEY_CC_URL;
  if (!url) throw new CliError('no Control Center: pass --url URL or set LATCHKEY_CC_URL', EXIT.usage);
  // node:http(s), not global fetch: the CLI runs without WebAssembly, which undici needs (phone/cli/node-fetch.ts).
  const client = new ApiClient({ baseUrl: url, adminToken: adminToken(globals), fetch: nodeFetch });
  try {
    return await client.call(method, path, body, schema, { timeoutMs: globals.timeout });
  } catch (error) {
    if (error instanceof ApiError) throw new CliError(error.status > 0 ? `the Control Center refused (${error.code}): ${error.message}` : error.message);
    throw error;
  }
}

/** Prints JSON with --json, otherwise the human lines. */
function show<T>(command: Command, answer: T, human: (answer: T) => string): void {
  print(command.optsWithGlobals<Globals>().json ? JSON.stringify(answer, null, 2) : human(answer));
}

function parseAssignments(pairs: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const match = /^([A-Za-z]+)=(.+)$/.exec(pair);
    if (!match) throw new CliError(`"${pair}" is not KEY=VALUE (such as offlineMode=true or pinCount=30)`, EXIT.usage);
    const raw = match[2]!;
    out[match[1]!] = raw === 'true' ? true : raw === 'false' ? false : /^\d+$/.test(raw) ? Number(raw) : raw;
  }
  return out;
}

const describeSettings = (s: v.InferOutput<typeof SettingsViewSchema>) => [
  `${s.scope === 'tenant' ? 'Tenant' : 'Group'} ${s.name} (settings revision ${s.revision})`,
  `  overrides: ${Object.keys(s.overrides).length === 0 ? 'none' : Object.entries(s.overrides).map(([k, val]) => `${k}=${String(val)}`).join(' ')}`,
  `  in force:  ${Object.entries(s.effective).map(([k, val]) => `${k}=${String(val)}`).join(' ')}`,
].join('\n');
const describeInstallToken = (t: v.InferOutput<typeof InstallTokenViewSchema>) =>
  `${t.installTokenId}  group ${t.groupId}  ${t.uses}/${t.maxUses} uses  expires ${when(t.expiresAt)}${t.revokedAt === null ? '' : `  revoked ${when(t.revokedAt)}`}${t.note ? `  "${t.note}"` : ''}`;
const describeWorkstation = (w: v.InferOutput<typeof WorkstationViewSchema>) =>
  `${w.workstationId}  ${w.name}  group ${w.groupId}  enrolled ${when(w.enrolledAt)}  last seen ${when(w.lastSeenAt)}${w.removedAt === null ? '' : '  removed'}`;
const describeAdminToken = (t: v.InferOutput<typeof AdminTokenViewSchema>) => `${t.adminTokenId}  ${t.name}  created ${when(t.createdAt)}${t.revokedAt === null ? '' : `  revoked ${when(t.revokedAt)}`}`;

function settingsPath(group?: string): string {
  return group === undefined ? '/v1/admin/settings' : `/v1/admin/groups/${encodeURIComponent(group)}/settings`;
}

function registerSettings(admin: Command): void {
  const settings = admin.command('settings').description('Workstation Settings of the tenant or a group');
  settings.command('show').description('show overrides and the settings in force').option('--group <groupId>', 'a group instead of the tenant')
    .action(async (options: { group?: string }, command: Command) => show(command, await call(command, 'GET', settingsPath(options.group), undefined, SettingsViewSchema), describeSettings));
  settings.command('set').description('set settings, such as offlineMode=true pinCount=30').argument('<key=value...>').option('--group <groupId>', 'a group instead of the tenant')
    .action(async (pairs: string[], options: { group?: string }, command: Command) => {
      const current = await call(command, 'GET', settingsPath(options.group), undefined, SettingsViewSchema);
      show(command, await call(command, 'PUT', settingsPath(options.group), { ...current.overrides, ...parseAssignments(pairs) }, SettingsViewSchema), describeSettings);
    });
  settings.command('unset').description('drop overrides, so the tenant default or built-in default applies').argument('<key...>').option('--group <groupId>', 'a group instead of the tenant')
    .action(async (keys: string[], options: { group?: string }, command: Command) => {
      const current = await call(command, 'GET', settingsPath(options.group), undefined, SettingsViewSchema);
      const overrides = Object.fromEntries(Object.entries(current.overrides).filter(([key]) => !keys.includes(key)));
      show(command, await call(command, 'PUT', settingsPath(options.group), overrides, SettingsViewSchema), describeSettings);
    });
}

function registerDirectory(admin: Command): void {
  const groups = admin.command('groups').description('workstation groups');
  groups.command('list').action(async (_o: object, command: Command) => show(command, await call(command, 'GET', '/v1/admin/groups', undefined, GroupsViewSchema),
    (a) => a.groups.map((g) => `${g.groupId}  ${g.name}${g.isDefault ? ' (default)' : ''}  ${g.workstations} workstations`).join('\n')));
  groups.command('create').argument('<name>').action(async (name: string, _o: object, command: Command) =>
    show(command, await call(command, 'POST', '/v1/admin/groups', { name }, GroupViewSchema), (g) => `Created group ${g.name}: ${g.groupId}`));
  groups.command('delete').argument('<groupId>').action(async (id: string, _o: object, command: Command) =>
    show(command, await call(command, 'DELETE', `/v1/admin/groups/${encodeURIComponent(id)}`, undefined, OkViewSchema), () => `Deleted group ${id}.`));

  const tokens = admin.command('install-tokens').description('install tokens for enrolling workstations');
  tokens.command('create').description('create one (the token is shown once)')
    .option('--group <groupId>', 'enroll into this group (default: the default group)')
    .option('--expires-in-hours <h>', 'lifetime in hours (default 168)', integerOption('--expires-in-hours', 1, 8760))
    .option('--max-uses <n>', 'how many workstations may enroll with it (default 1000)', integerOption('--max-uses', 1, 1_000_000))
    .option('--note <text>', 'a note for the list')
    .action(async (o: { group?: string; expiresInHours?: number; maxUses?: number; note?: string }, command: Command) => {
      const body = { ...(o.group ? { groupId: o.group } : {}), ...(o.expiresInHours ? { expiresInHours: o.expiresInHours } : {}), ...(o.maxUses ? { maxUses: o.maxUses } : {}), ...(o.note ? { note: o.note } : {}) };
      show(command, await call(command, 'POST', '/v1/admin/install-tokens', body, InstallTokenViewSchema), (t) => `Install token (shown once, store it now): ${t.token}\n  ${describeInstallToken(t)}`);
    });
  tokens.command('list').action(async (_o: object, command: Command) =>
    show(command, await call(command, 'GET', '/v1/admin/install-tokens', undefined, InstallTokensViewSchema), (a) => a.installTokens.map(describeInstallToken).join('\n') || 'No install tokens.'));
  tokens.command('revoke').argument('<id>').action(async (id: string, _o: object, command: Command) =>
    show(command, await call(command, 'DELETE', `/v1/admin/install-tokens/${encodeURIComponent(id)}`, undefined, InstallTokenViewSchema), (t) => `Revoked ${t.installTokenId}.`));

  const workstations = admin.command('workstations').description('enrolled workstations');
  workstations.command('list').option('--group <groupId>', 'only this group').option('--limit <n>', 'at most this many', integerOption('--limit', 1, 1000), 100)
    .option('--after <workstationId>', 'the page after this workstation')
    .action(async (o: { group?: string; limit: number; after?: string }, command: Command) => {
      const query = new URLSearchParams({ limit: String(o.limit), ...(o.group ? { groupId: o.group } : {}), ...(o.after ? { after: o.after } : {}) });
      show(command, await call(command, 'GET', `/v1/admin/workstations?${query}`, undefined, WorkstationsViewSchema),
        (a) => [...a.workstations.map(describeWorkstation), ...(a.next ? [`(more: --after ${a.next})`] : [])].join('\n') || 'No workstations.');
    });
  workstations.command('move').argument('<workstationId>').argument('<groupId>').action(async (id: string, groupId: string, _o: object, command: Command) =>
    show(command, await call(command, 'PUT', `/v1/admin/workstations/${encodeURIComponent(id)}/group`, { groupId }, WorkstationViewSchema), (w) => `Moved ${w.workstationId} to group ${w.groupId}.`));
  workstations.command('remove').argument('<workstationId>').action(async (id: string, _o: object, command: Command) =>
    show(command, await call(command, 'DELETE', `/v1/admin/workstations/${encodeURIComponent(id)}`, undefined, WorkstationViewSchema), (w) => `Removed ${w.workstationId}; its key is refused from now on.`));

  admin.command('users').description('users').command('list').action(async (_o: object, command: Command) =>
    show(command, await call(command, 'GET', '/v1/admin/users', undefined, UsersViewSchema),
      (a) => a.users.map((u) => `${u.user}  ${u.devices.length} phones  ${u.workstations.length} workstations`).join('\n') || 'No users.'));

  const devices = admin.command('devices').description('paired phones');
  devices.command('list').option('--user <name>', 'only phones of this user', userOption).action(async (o: { user?: string }, command: Command) =>
    show(command, await call(command, 'GET', `/v1/admin/devices${o.user ? `?user=${encodeURIComponent(o.user)}` : ''}`, undefined, DevicesViewSchema),
      (a) => a.devices.map((d) => `${d.deviceId}  ${d.name}  ${d.revokedAt === null ? d.bindings.map((b) => `${b.user}@${b.workstationId}`).join(' ') : `revoked ${when(d.revokedAt)}`}`).join('\n') || 'No phones.'));
  devices.command('revoke').argument('<deviceId>').action(async (id: string, _o: object, command: Command) =>
    show(command, await call(command, 'DELETE', `/v1/admin/devices/${encodeURIComponent(id)}`, undefined, DeviceViewSchema), (d) => `Revoked ${d.deviceId}; its key is refused from now on.`));
}

function registerAuditAndTokens(admin: Command): void {
  const page = (o: { limit: number; before?: number }, extra: Record<string, string> = {}) =>
    new URLSearchParams({ limit: String(o.limit), ...(o.before ? { before: String(o.before) } : {}), ...extra });
  admin.command('audit').description('the audit log, newest first')
    .option('--limit <n>', 'entries per page', integerOption('--limit', 1, 1000), 50).option('--before <id>', 'entries older than this id', integerOption('--before', 1, Number.MAX_SAFE_INTEGER))
    .action(async (o: { limit: number; before?: number }, command: Command) => show(command, await call(command, 'GET', `/v1/admin/audit?${page(o)}`, undefined, AuditViewSchema),
      (a) => [...a.entries.map((e) => `${e.id}  ${when(e.time)}  ${e.actor}  ${e.action}  ${e.target ?? '-'}  ${e.result}${e.detail ? `  ${JSON.stringify(e.detail)}` : ''}`),
        ...(a.next ? [`(older: --before ${a.next})`] : [])].join('\n') || 'The audit log is empty.'));
  admin.command('events').description('events uploaded by workstations (offline unlocks), newest first')
    .option('--workstation <workstationId>', 'only this workstation')
    .option('--limit <n>', 'events per page', integerOption('--limit', 1, 1000), 50).option('--before <cursor>', 'events older than this cursor', integerOption('--before', 1, Number.MAX_SAFE_INTEGER))
    .action(async (o: { workstation?: string; limit: number; before?: number }, command: Command) =>
      show(command, await call(command, 'GET', `/v1/admin/events?${page(o, o.workstation ? { workstationId: o.workstation } : {})}`, undefined, EventsViewSchema),
        (a) => [...a.events.map((e) => `${when(e.time)}  ${e.workstationId}  ${e.user}  ${e.type}  ${e.result}${e.reason ? ` (${e.reason})` : ''}${e.repeated ? `  ×${e.repeated} since ${when(e.since ?? e.time)}` : ''}`),
          ...(a.next ? [`(older: --before ${a.next})`] : [])].join('\n') || 'No events.'));

  const tokens = admin.command('admin-tokens').description('admin tokens');
  tokens.command('list').action(async (_o: object, command: Command) =>
    show(command, await call(command, 'GET', '/v1/admin/admin-tokens', undefined, AdminTokensViewSchema), (a) => a.adminTokens.map(describeAdminToken).join('\n')));
  tokens.command('create').argument('<name>').action(async (name: string, _o: object, command: Command) =>
    show(command, await call(command, 'POST', '/v1/admin/admin-tokens', { name }, AdminTokenViewSchema), (t) => `Admin token "${t.name}" (shown once, store it now): ${t.token}\n  ${t.adminTokenId}`));
  tokens.command('revoke').argument('<id>').action(async (id: string, _o: object, command: Command) =>
    show(command, await call(command, 'DELETE', `/v1/admin/admin-tokens/${encodeURIComponent(id)}`, undefined, AdminTokenViewSchema), (t) => `Revoked ${t.adminTokenId}.`));

  admin.command('recovery-pin').description('recovery PINs').command('reveal').description('reveal the one-time recovery PIN of a user on a workstation (audited)')
    .requiredOption('--workstation <workstationId>', 'the workstation').requiredOption('--user <name>', 'the user at that workstation', userOption)
    .action(async (o: { workstation: string; user: string }, command: Command) =>
      show(command, await call(command, 'POST', '/v1/admin/recovery-pins/reveal', { workstationId: o.workstation, user: o.user }, RevealRecoveryPinResponseSchema),
        (a) => `Recovery PIN for ${o.user} on ${o.workstation}: ${a.pin.replace(/(.{4})(?=.)/g, '$1-')}\nIt works once, offline too; the workstation makes a new one when it is next online.`));
}

export function registerAdmin(program: Command): void {
  const admin = program
    .command('admin')
    .description('manage a Control Center: settings, install tokens, workstations, users, phones, audit (docs/control-center.md)')
    .option('--url <url>', 'the Control Center (default: $LATCHKEY_CC_URL)')
    .option('--token-file <file>', 'a file holding an admin token (default: $LATCHKEY_ADMIN_TOKEN)')
    .option('--json', 'print the answer as JSON')
    .option('--timeout <ms>', 'give up after this long', integerOption('--timeout', 100, 600_000), 10_000);
  registerSettings(admin);
  registerDirectory(admin);
  registerAuditAndTokens(admin);
}
