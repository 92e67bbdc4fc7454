/**
 * `latchkey admin …`: the Control Center's admin API from a shell (docs/control-center.md
 * "latchkey admin"). The token comes from --token-file or LATCHKEY_ADMIN_TOKEN, never from the
 * command line; answers are validated with the schemas in control-center/admin-api.ts.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type * as v from 'valibot';
import { type AdminTokenViewSchema, EVENT_TYPES, type InstallTokenViewSchema } from '../../control-center/admin-api.js';
import type { SettingsViewSchema, WorkstationDetailViewSchema } from '../../control-center/admin-api.js';
import type { WorkstationViewSchema } from '../../control-center/admin-api.js';
import { AdminClient, eventsToCsv } from '../../control-center/admin-client.js';
import { describeFileError } from '../../platform/file-errors.js';
import { whyUnreachable } from '../control-center-reach.js';
import { nodeFetch } from '../../platform/node-fetch.js';
import { ApiClient, ApiError } from '../../platform/api-client.js';
import { CliError, EXIT } from '../../platform/exit-codes.js';
import { integerOption, timeOption, urlOption, userOption } from '../options.js';

interface Globals {
  url?: string;
  tokenFile?: string;
  json?: boolean;
  timeout: number;
}
type Print = (text: string) => void;
const print: Print = (text) => void process.stdout.write(`${text}\n`);
const when = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'));

function adminToken(globals: Globals): string {
  let token = process.env.LATCHKEY_ADMIN_TOKEN;
  if (globals.tokenFile !== undefined) {
    try {
      token = readFileSync(globals.tokenFile, 'utf8').trim();
    } catch (error) {
      throw new CliError(`--token-file: ${describeFileError(error, globals.tokenFile)}`);
    }
  }
  if (!token) throw new CliError('no admin token: pass --token-file FILE or set LATCHKEY_ADMIN_TOKEN', EXIT.usage);
  return token;
}

function fromEnvironment(value: string | undefined): string | undefined {
  if (!value) return undefined;
  try {
    return urlOption(value);
  } catch (error) {
    throw new CliError(`LATCHKEY_CC_URL: ${(error as Error).message.replace(/^--url /, 'it ')}`, EXIT.usage);
  }
}

/** Why the Control Center did not answer, and what to check. */
function unreachable(error: ApiError, url: string, timeoutMs: number): string {
  const why = error.code === 'timeout' ? `no answer within ${timeoutMs} ms` : whyUnreachable(error.cause);
  return `the Control Center at ${url} cannot be reached (${why}): check --url (or LATCHKEY_CC_URL) and that the Control Center runs`;
}

/** One admin call (control-center/admin-client.ts): the answer validated, any refusal turned into a sentence and exit code 1. */
async function call<T>(command: Command, request: (admin: AdminClient) => Promise<T>): Promise<T> {
  const globals = command.optsWithGlobals<Globals>();
  const url = globals.url ?? fromEnvironment(process.env.LATCHKEY_CC_URL);
  if (!url) throw new CliError('no Control Center: pass --url URL or set LATCHKEY_CC_URL', EXIT.usage);
  // node:http(s), not global fetch: the CLI runs without WebAssembly, which undici needs (platform/node-fetch.ts).
  const client = new AdminClient(
    new ApiClient({ baseUrl: url, adminToken: adminToken(globals), fetch: nodeFetch }),
    globals.timeout,
  );
  try {
    return await request(client);
  } catch (error) {
    if (error instanceof ApiError)
      throw new CliError(
        error.status > 0
          ? `the Control Center refused (${error.code}): ${error.message}`
          : unreachable(error, url, globals.timeout),
      );
    throw error;
  }
}

/** Prints JSON with --json, otherwise the human lines. */
function show<T>(command: Command, answer: T, human: (answer: T) => string): void {
  print(command.optsWithGlobals<Globals>().json ? JSON.stringify(answer, null, 2) : human(answer));
}

/** What removing a workstation or revoking a phone means: its signed requests fail from now on. */
const keyRefused = (done: string, id: string) => `${done} ${id}; its key is refused from now on.`;

/** The admin client's calls that take one string: a name or an id. */
type OneArgumentCall = {
  [K in keyof AdminClient]: AdminClient[K] extends (value: string) => Promise<unknown> ? K : never;
}[keyof AdminClient];

/** `… VERB <argument>`: the admin client's `request` on the argument, and the sentence that says what was done. */
function oneCallCommand<K extends OneArgumentCall>(
  parent: Command,
  usage: string,
  request: K,
  done: (answer: Awaited<ReturnType<AdminClient[K]>>, value: string) => string,
): void {
  type Answer = Awaited<ReturnType<AdminClient[K]>>;
  parent.command(usage).action(async (value: string, _o: object, command: Command) => {
    const answer = await call(command, (a) => (a[request] as (value: string) => Promise<Answer>)(value));
    show(command, answer, (shown) => done(shown, value));
  });
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

const describeSettings = (s: v.InferOutput<typeof SettingsViewSchema>) =>
  [
    `${s.scope === 'tenant' ? 'Tenant' : 'Group'} ${s.name} (settings revision ${s.revision})`,
    `  overrides: ${
      Object.keys(s.overrides).length === 0
        ? 'none'
        : Object.entries(s.overrides)
            .map(([k, val]) => `${k}=${String(val)}`)
            .join(' ')
    }`,
    `  in force:  ${Object.entries(s.effective)
      .map(([k, val]) => `${k}=${String(val)}`)
      .join(' ')}`,
  ].join('\n');
const describeInstallToken = (t: v.InferOutput<typeof InstallTokenViewSchema>) =>
  `${t.installTokenId}  group ${t.groupId}  ${t.uses}/${t.maxUses} uses  expires ${when(t.expiresAt)}${t.revokedAt === null ? '' : `  revoked ${when(t.revokedAt)}`}${t.note ? `  "${t.note}"` : ''}`;
const describeWorkstation = (w: v.InferOutput<typeof WorkstationViewSchema>) =>
  `${w.workstationId}  ${w.name}  group ${w.groupId}  enrolled ${when(w.enrolledAt)}  last seen ${when(w.lastSeenAt)}${w.removedAt === null ? '' : '  removed'}`;
const describeWorkstationDetail = (d: v.InferOutput<typeof WorkstationDetailViewSchema>) =>
  [
    `${describeWorkstation(d.workstation)}  policy ${d.workstation.policyVersion ?? '-'}`,
    ...(d.phones.length === 0
      ? ['  no paired phones']
      : d.phones.map(
          (p) => `  ${p.user}: ${p.deviceId} ${p.name}, paired ${when(p.pairedAt)}, last seen ${when(p.lastSeenAt)}`,
        )),
    ...d.lockoutResets.map(
      (r) =>
        `  lockout reset ${r.resetId} for ${r.user}: ${r.doneAt === null ? 'pending' : `${r.result} ${when(r.doneAt)}`}`,
    ),
  ].join('\n');
const describeAdminToken = (t: v.InferOutput<typeof AdminTokenViewSchema>) =>
  `${t.adminTokenId}  ${t.name}  created ${when(t.createdAt)}${t.revokedAt === null ? '' : `  revoked ${when(t.revokedAt)}`}`;

/** Settings commands act on the tenant unless --group names one of its groups. */
const groupScope = ['--group <groupId>', 'a group instead of the tenant'] as const;

function registerSettings(admin: Command): void {
  const settings = admin.command('settings').description('Workstation Settings of the tenant or a group');
  settings
    .command('show')
    .description('show overrides and the settings in force')
    .option(...groupScope)
    .action(async (options: { group?: string }, command: Command) =>
      show(command, await call(command, (a) => a.settings(options.group)), describeSettings),
    );
  overridesCommand(
    settings,
    'set <key=value...>',
    'set settings, such as offlineMode=true pinCount=30',
    (current, pairs) => ({ ...current, ...parseAssignments(pairs) }),
  );
  overridesCommand(
    settings,
    'unset <key...>',
    'drop overrides, so the tenant default or built-in default applies',
    (current, keys) => Object.fromEntries(Object.entries(current).filter(([key]) => !keys.includes(key))),
  );
}

/** `settings VERB …`: reads the overrides of the tenant (or --group), puts `change`'s instead, shows the settings. */
function overridesCommand(
  settings: Command,
  usage: string,
  description: string,
  change: (current: Record<string, unknown>, args: string[]) => Record<string, unknown>,
): void {
  settings
    .command(usage)
    .description(description)
    .option(...groupScope)
    .action(async (args: string[], options: { group?: string }, command: Command) => {
      const current = await call(command, (a) => a.settings(options.group));
      const overrides = change(current.overrides, args);
      show(command, await call(command, (a) => a.putSettings(overrides, options.group)), describeSettings);
    });
}

function registerDirectory(admin: Command): void {
  const groups = admin.command('groups').description('workstation groups');
  groups
    .command('list')
    .action(async (_o: object, command: Command) =>
      show(command, await call(command, (a) => a.groups()), (a) =>
        a.groups
          .map((g) => `${g.groupId}  ${g.name}${g.isDefault ? ' (default)' : ''}  ${g.workstations} workstations`)
          .join('\n'),
      ),
    );
  oneCallCommand(groups, 'create <name>', 'createGroup', (g) => `Created group ${g.name}: ${g.groupId}`);
  oneCallCommand(groups, 'delete <groupId>', 'deleteGroup', (_answer, id) => `Deleted group ${id}.`);

  const tokens = admin.command('install-tokens').description('install tokens for enrolling workstations');
  tokens
    .command('create')
    .description('create one (the token is shown once)')
    .option('--group <groupId>', 'enroll into this group (default: the default group)')
    .option('--expires-in-hours <h>', 'lifetime in hours (default 168)', integerOption('--expires-in-hours', 1, 8760))
    .option(
      '--max-uses <n>',
      'how many workstations may enroll with it (default 1000)',
      integerOption('--max-uses', 1, 1_000_000),
    )
    .option('--note <text>', 'a note for the list')
    .action(
      async (o: { group?: string; expiresInHours?: number; maxUses?: number; note?: string }, command: Command) => {
        const body = {
          ...(o.group ? { groupId: o.group } : {}),
          ...(o.expiresInHours ? { expiresInHours: o.expiresInHours } : {}),
          ...(o.maxUses ? { maxUses: o.maxUses } : {}),
          ...(o.note ? { note: o.note } : {}),
        };
        show(
          command,
          await call(command, (a) => a.createInstallToken(body)),
          (t) => `Install token (shown once, store it now): ${t.token}\n  ${describeInstallToken(t)}`,
        );
      },
    );
  tokens
    .command('list')
    .action(async (_o: object, command: Command) =>
      show(
        command,
        await call(command, (a) => a.installTokens()),
        (a) => a.installTokens.map(describeInstallToken).join('\n') || 'No install tokens.',
      ),
    );
  oneCallCommand(tokens, 'revoke <id>', 'revokeInstallToken', (t) => `Revoked ${t.installTokenId}.`);

  const workstations = admin.command('workstations').description('enrolled workstations');
  workstations
    .command('list')
    .option('--group <groupId>', 'only this group')
    .option('--limit <n>', 'at most this many', integerOption('--limit', 1, 1000), 100)
    .option('--after <workstationId>', 'the page after this workstation')
    .action(async (o: { group?: string; limit: number; after?: string }, command: Command) =>
      show(
        command,
        await call(command, (a) => a.workstations({ limit: o.limit, groupId: o.group, after: o.after })),
        (a) =>
          [...a.workstations.map(describeWorkstation), ...(a.next ? [`(more: --after ${a.next})`] : [])].join('\n') ||
          'No workstations.',
      ),
    );
  workstations
    .command('show')
    .description('one workstation: its users, paired phones and lockout resets')
    .argument('<workstationId>')
    .action(async (id: string, _o: object, command: Command) =>
      show(command, await call(command, (a) => a.workstation(id)), describeWorkstationDetail),
    );
  workstations
    .command('unpair')
    .description("end one phone's pairing for a user on this workstation (the phone keeps its other pairings)")
    .argument('<workstationId>')
    .requiredOption('--device <deviceId>', 'the phone')
    .requiredOption('--user <name>', 'the user it is paired for', userOption)
    .action(async (id: string, o: { device: string; user: string }, command: Command) =>
      show(
        command,
        await call(command, (a) => a.unpair(id, o.device, o.user)),
        () => `Unpaired ${o.device} from ${o.user} on ${id}.`,
      ),
    );
  workstations
    .command('reset-lockout')
    .description("ask the workstation to clear a user's failed offline-PIN attempts (it does when it next polls)")
    .argument('<workstationId>')
    .requiredOption('--user <name>', 'the locked-out user', userOption)
    .action(async (id: string, o: { user: string }, command: Command) =>
      show(
        command,
        await call(command, (a) => a.resetLockout(id, o.user)),
        (r) =>
          `Asked ${id} to clear ${r.user}'s failed attempts (${r.resetId}); it does when it next polls, within seconds while online.`,
      ),
    );
  workstations
    .command('move')
    .argument('<workstationId>')
    .argument('<groupId>')
    .action(async (id: string, groupId: string, _o: object, command: Command) =>
      show(
        command,
        await call(command, (a) => a.moveWorkstation(id, groupId)),
        (w) => `Moved ${w.workstationId} to group ${w.groupId}.`,
      ),
    );
  oneCallCommand(workstations, 'remove <workstationId>', 'removeWorkstation', (w) =>
    keyRefused('Removed', w.workstationId),
  );

  admin
    .command('users')
    .description('users')
    .command('list')
    .action(async (_o: object, command: Command) =>
      show(
        command,
        await call(command, (a) => a.users()),
        (a) =>
          a.users
            .map((u) => `${u.user}  ${u.devices.length} phones  ${u.workstations.length} workstations`)
            .join('\n') || 'No users.',
      ),
    );

  const devices = admin.command('devices').description('paired phones');
  devices
    .command('list')
    .option('--user <name>', 'only phones of this user', userOption)
    .action(async (o: { user?: string }, command: Command) =>
      show(
        command,
        await call(command, (a) => a.devices(o.user)),
        (a) =>
          a.devices
            .map(
              (d) =>
                `${d.deviceId}  ${d.name}  ${d.revokedAt === null ? d.bindings.map((b) => `${b.user}@${b.workstationId}`).join(' ') : `revoked ${when(d.revokedAt)}`}`,
            )
            .join('\n') || 'No phones.',
      ),
    );
  oneCallCommand(devices, 'revoke <deviceId>', 'revokeDevice', (d) => keyRefused('Revoked', d.deviceId));
}

function registerAuditAndTokens(admin: Command): void {
  admin
    .command('audit')
    .description('the audit log, newest first')
    .option('--limit <n>', 'entries per page', integerOption('--limit', 1, 1000), 50)
    .option('--before <id>', 'entries older than this id', integerOption('--before', 1, Number.MAX_SAFE_INTEGER))
    .action(async (o: { limit: number; before?: number }, command: Command) =>
      show(
        command,
        await call(command, (a) => a.audit(o)),
        (a) =>
          [
            ...a.entries.map(
              (e) =>
                `${e.id}  ${when(e.time)}  ${e.actor}  ${e.action}  ${e.target ?? '-'}  ${e.result}${e.detail ? `  ${JSON.stringify(e.detail)}` : ''}`,
            ),
            ...(a.next ? [`(older: --before ${a.next})`] : []),
          ].join('\n') || 'The audit log is empty.',
      ),
    );
  admin
    .command('events')
    .description('events uploaded by workstations (online and offline unlocks…), newest first')
    .option('--workstation <workstationId>', 'only this workstation')
    .option('--user <name>', 'only this user', userOption)
    .option('--type <types>', `only these types, comma-separated (${EVENT_TYPES.join(', ')})`)
    .option('--since <time>', 'at or after this time (ISO 8601)', timeOption('--since'))
    .option('--until <time>', 'at or before this time (ISO 8601)', timeOption('--until'))
    .option('--limit <n>', 'events per page', integerOption('--limit', 1, 1000), 50)
    .option('--before <cursor>', 'events older than this cursor', integerOption('--before', 1, Number.MAX_SAFE_INTEGER))
    .option('--csv', "print CSV (the console's export format)")
    .action(
      async (
        o: {
          workstation?: string;
          user?: string;
          type?: string;
          since?: number;
          until?: number;
          limit: number;
          before?: number;
          csv?: boolean;
        },
        command: Command,
      ) => {
        const answer = await call(command, (a) =>
          a.events({
            workstationId: o.workstation,
            user: o.user,
            types: o.type?.split(','),
            since: o.since,
            until: o.until,
            before: o.before,
            limit: o.limit,
          }),
        );
        if (o.csv) return void process.stdout.write(eventsToCsv(answer.events));
        show(
          command,
          answer,
          (a) =>
            [
              ...a.events.map(
                (e) =>
                  `${when(e.time)}  ${e.workstationId}  ${e.user}  ${e.type}  ${e.result}${e.reason ? ` (${e.reason})` : ''}${e.repeated ? `  ×${e.repeated} since ${when(e.since ?? e.time)}` : ''}`,
              ),
              ...(a.next ? [`(older: --before ${a.next})`] : []),
            ].join('\n') || 'No events.',
        );
      },
    );

  const tokens = admin.command('admin-tokens').description('admin tokens');
  tokens
    .command('list')
    .action(async (_o: object, command: Command) =>
      show(command, await call(command, (a) => a.adminTokens()), (a) =>
        a.adminTokens.map(describeAdminToken).join('\n'),
      ),
    );
  oneCallCommand(
    tokens,
    'create <name>',
    'createAdminToken',
    (t) => `Admin token "${t.name}" (shown once, store it now): ${t.token}\n  ${t.adminTokenId}`,
  );
  oneCallCommand(tokens, 'revoke <id>', 'revokeAdminToken', (t) => `Revoked ${t.adminTokenId}.`);

  admin
    .command('recovery-pin')
    .description('recovery PINs')
    .command('reveal')
    .description('reveal the one-time recovery PIN of a user on a workstation (audited)')
    .requiredOption('--workstation <workstationId>', 'the workstation')
    .requiredOption('--user <name>', 'the user at that workstation', userOption)
    .action(async (o: { workstation: string; user: string }, command: Command) =>
      show(
        command,
        await call(command, (a) => a.revealRecoveryPin(o.workstation, o.user)),
        (a) =>
          `Recovery PIN for ${o.user} on ${o.workstation}: ${a.pin.replace(/(.{4})(?=.)/g, '$1-')}\nIt works once, offline too; the workstation makes a new one when it is next online.`,
      ),
    );
}

export function registerAdmin(program: Command): void {
  const admin = program
    .command('admin')
    .description(
      'manage a Control Center: settings, install tokens, workstations, users, phones, audit (docs/control-center.md)',
    )
    .option('--url <url>', 'the Control Center (default: $LATCHKEY_CC_URL)', urlOption)
    .option('--token-file <file>', 'a file holding an admin token (default: $LATCHKEY_ADMIN_TOKEN)')
    .option('--json', 'print the answer as JSON')
    .option('--timeout <ms>', 'give up after this long', integerOption('--timeout', 100, 600_000), 10_000);
  registerSettings(admin);
  registerDirectory(admin);
  registerAuditAndTokens(admin);
}
