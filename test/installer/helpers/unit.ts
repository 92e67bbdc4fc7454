/**
 * Starting a service the way its installed unit file says, without systemd (PID 1 is not
 * systemd here): ExecStart, User/Group, Environment, UMask, RuntimeDirectory and
 * StateDirectory with their modes, NoNewPrivileges and CapabilityBoundingSet (setpriv), and
 * MemoryDenyWriteExecute (mdwe-exec, the kernel's PR_SET_MDWE). The seccomp filter, the
 * namespaces and the read-only views are systemd's own and are checked by systemd-analyze.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { collectOutput } from '../../helpers/child-output.js';
import type { Sandbox } from './sandbox.js';

export interface ServiceUnit {
  readonly execStart: string[];
  readonly user: string | undefined;
  readonly group: string | undefined;
  readonly environment: Record<string, string>;
  readonly umask: string | undefined;
  readonly runtimeDirectory: { name: string; mode: string } | undefined;
  readonly stateDirectory: { name: string; mode: string } | undefined;
  readonly noNewPrivileges: boolean;
  readonly capabilityBoundingSet: string[] | undefined;
  readonly memoryDenyWriteExecute: boolean;
}

/** The [Service] settings this file emulates, from the unit's text. */
export function parseServiceUnit(text: string): ServiceUnit {
  const settings = new Map<string, string[]>();
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('[')) section = line;
    else if (section === '[Service]') {
      const at = line.indexOf('=');
      const key = line.slice(0, at);
      settings.set(key, [...(settings.get(key) ?? []), line.slice(at + 1)]);
    }
  }
  const last = (key: string) => settings.get(key)?.at(-1);
  const yes = (key: string) => last(key) === 'yes' || last(key) === 'true';
  const directory = (key: string) => (last(key) ? { name: last(key)!, mode: last(`${key}Mode`) ?? '0755' } : undefined);
  const environment: Record<string, string> = {};
  for (const line of settings.get('Environment') ?? []) {
    for (const pair of line.split(/\s+/).filter(Boolean)) {
      const at = pair.indexOf('=');
      environment[pair.slice(0, at)] = pair.slice(at + 1);
    }
  }
  const execStart = last('ExecStart');
  if (!execStart) throw new Error('the unit has no ExecStart');
  return {
    execStart: execStart.split(/\s+/),
    user: last('User'),
    group: last('Group'),
    environment,
    umask: last('UMask'),
    runtimeDirectory: directory('RuntimeDirectory'),
    stateDirectory: directory('StateDirectory'),
    noNewPrivileges: yes('NoNewPrivileges'),
    capabilityBoundingSet: last('CapabilityBoundingSet')?.split(/\s+/).filter(Boolean),
    memoryDenyWriteExecute: yes('MemoryDenyWriteExecute'),
  };
}

export interface RunningService {
  readonly child: ChildProcess;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

/** systemd's environment for system services, plus the unit's Environment=. */
const SERVICE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Starts the unit installed at `unitPath` inside the sandbox as systemd would. */
export function startService(sandbox: Sandbox, unitPath: string, mdweExec: string): RunningService {
  const unit = parseServiceUnit(readFileSync(sandbox.path(unitPath), 'utf8'));
  const owner = unit.user ? `${unit.user}:${unit.group ?? unit.user}` : 'root:root';
  for (const [base, dir] of [
    ['/run', unit.runtimeDirectory],
    ['/var/lib', unit.stateDirectory],
  ] as const) {
    if (dir)
      sandbox.check([
        'sh',
        '-c',
        `install -d -m "$1" -o "\${2%%:*}" -g "\${2##*:}" "$3"`,
        'sh',
        dir.mode,
        owner,
        `${base}/${dir.name}`,
      ]);
  }
  const setpriv = [
    'setpriv',
    ...(unit.user ? ['--reuid', unit.user, '--regid', unit.group ?? unit.user, '--init-groups'] : []),
    ...(unit.noNewPrivileges ? ['--no-new-privs'] : []),
    ...(unit.capabilityBoundingSet
      ? [
          '--bounding-set',
          ['-all', ...unit.capabilityBoundingSet.map((cap) => `+${cap.replace(/^CAP_/, '').toLowerCase()}`)].join(','),
        ]
      : []),
    '--',
  ];
  const command = [
    'sh',
    '-c',
    `umask ${unit.umask ?? '0022'} && exec "$@"`,
    'sh',
    ...setpriv,
    ...(unit.memoryDenyWriteExecute ? [mdweExec] : []),
    ...unit.execStart,
  ];
  const child = sandbox.spawn(command, { PATH: SERVICE_PATH, LANG: 'C.UTF-8', ...unit.environment });
  const printed = collectOutput(child, unitPath);
  return {
    ...printed,
    waitFor: (pattern, timeoutMs = 60_000) =>
      printed.waitForOutput((output) => pattern.exec(output)?.[0], String(pattern), timeoutMs),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await printed.exited;
      }
      // systemd removes the RuntimeDirectory when the service stops.
      if (unit.runtimeDirectory) sandbox.run(['rm', '-rf', `/run/${unit.runtimeDirectory.name}`]);
    },
  };
}
