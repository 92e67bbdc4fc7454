/**
 * `latchkey doctor`'s one judgement: the findings (findings.ts) become ✓ / ✗ lines, each ✗ with
 * its fix, and one verdict — would a PIN prompt appear for the user? — decided as the PAM module
 * decides (docs/pam.md "What it does"): a stack reaches an installed module, the agent answers
 * as `agent_uid`, and its status says Offline Mode is on, a pool is usable and nothing is locked.
 * Pure.
 */
import type { AgentFinding, DoctorFindings, StatusAnswer, StatusDetail } from './findings.js';
import { MODULE_NAME, modulePath } from './pam-stacks.js';

export interface Check {
  readonly id: string;
  readonly status: 'ok' | 'problem' | 'info';
  readonly text: string;
  readonly fix?: string;
  /** A problem that alone keeps the PIN prompt away. */
  readonly blocking?: boolean;
}

export interface Diagnosis {
  readonly user: string;
  readonly pinPrompt: boolean;
  /** Services whose stack would show the prompt (with an installed module). */
  readonly promptAt: readonly string[];
  readonly checks: readonly Check[];
}

const ok = (id: string, text: string): Check => ({ id, status: 'ok', text });
const info = (id: string, text: string, fix?: string): Check => ({ id, status: 'info', text, ...(fix ? { fix } : {}) });
const problem = (id: string, text: string, fix: string, blocking: boolean): Check => ({
  id,
  status: 'problem',
  text,
  fix,
  blocking,
});

const INSTALL_MODULE = (path: string) =>
  `install it: install -o root -m 0644 build/Release/${MODULE_NAME} ${path} (npm run build:native builds it; the .deb installs it)`;
const ENABLE_PROFILE = `install -m 0644 native/pam/pam-configs/latchkey /usr/share/pam-configs/latchkey && pam-auth-update --enable latchkey, or put "auth sufficient ${MODULE_NAME}" first in one service's file (docs/pam.md "Stack lines")`;
const START_AGENT = 'start it: systemctl start latchkey-agent, or "latchkey agent" as root';

export function describeUid(uid: number): string {
  return uid === 0 ? 'root (uid 0)' : `uid ${uid}`;
}

export function describeAge(ms: number): string {
  const minutes = Math.floor(Math.max(0, ms) / 60_000);
  if (minutes < 1) return 'less than a minute';
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? `${hours} h` : `${Math.floor(hours / 24)} days`;
}

function reachLabel(service: string, via: readonly string[]): string {
  return via.length === 0 ? service : `${service} (through ${via.join(' → ')})`;
}

/** The PAM side: the module file, the stacks that name it, the syslog socket. */
function pamChecks(f: DoctorFindings): { checks: Check[]; promptAt: string[] } {
  const { pam } = f;
  if (!pam.configDirectoryExists)
    return {
      checks: [
        problem(
          'pam-stacks',
          `there is no PAM configuration in ${pam.configDirectory}`,
          'install libpam (apt-get install libpam-runtime), or name the directory with --pam-dir',
          true,
        ),
      ],
      promptAt: [],
    };
  const checks: Check[] = [];
  const fileState = new Map(pam.moduleFiles.map((file) => [file.path, file]));
  const reaching = pam.services.filter((s) => s.references.length > 0);
  const namedBy = (path: string) => [
    ...new Set(
      reaching.flatMap((s) =>
        s.references.filter((r) => modulePath(r.path, pam.moduleDirectory) === path).map((r) => r.file),
      ),
    ),
  ];
  for (const file of pam.moduleFiles) {
    const names = namedBy(file.path);
    if (file.state === 'ok') checks.push(ok('pam-module', `${MODULE_NAME} is installed: ${file.path}`));
    else if (file.state === 'missing') {
      const silent = f.syslog.present ? '' : `, and with no ${f.syslog.path} nothing logs why`;
      checks.push(
        names.length > 0
          ? problem(
              'pam-module',
              `${file.path} does not exist, but ${names.join(', ')} names it: libpam cannot load it and goes on without a PIN prompt${silent}`,
              INSTALL_MODULE(file.path),
              true,
            )
          : problem(
              'pam-module',
              `${MODULE_NAME} is not installed in ${pam.moduleDirectory}`,
              INSTALL_MODULE(file.path),
              true,
            ),
      );
    } else
      checks.push(
        problem(
          'pam-module',
          `${file.path}: ${file.problem ?? 'cannot be used'}`,
          `chown root:root ${file.path} && chmod 0644 ${file.path}`,
          true,
        ),
      );
  }
  const promptAt = reaching
    .filter((s) => s.references.some((r) => fileState.get(modulePath(r.path, pam.moduleDirectory))?.state === 'ok'))
    .map((s) => s.service);
  if (reaching.length === 0)
    checks.push(
      problem(
        'pam-stacks',
        `no PAM stack in ${pam.configDirectory} names ${MODULE_NAME}, so no login or lock screen asks for a PIN`,
        ENABLE_PROFILE,
        true,
      ),
    );
  else
    checks.push(
      ok(
        'pam-stacks',
        `PAM stacks that reach ${MODULE_NAME}: ${reaching.map((s) => reachLabel(s.service, s.references[0]!.via)).join(', ')}`,
      ),
    );
  for (const service of pam.services) {
    for (const missing of service.missingIncludes)
      checks.push(
        problem(
          'pam-include',
          `${service.service} includes ${missing}, which is not in ${pam.configDirectory}: libpam refuses that service's stack`,
          `create ${missing}, or remove the include from ${pam.configDirectory}/${service.service}`,
          false,
        ),
      );
  }
  const without = pam.services.filter((s) => s.references.length === 0).map((s) => s.service);
  if (without.length > 0)
    checks.push(
      info('pam-others', `no PIN prompt at: ${without.join(', ')} (their stacks do not reach ${MODULE_NAME})`),
    );
  checks.push(
    f.syslog.present
      ? ok('syslog', `${f.syslog.path} is there: the PAM module's warnings reach the system log`)
      : problem(
          'syslog',
          `no ${f.syslog.path}: the PAM module's messages go nowhere`,
          'install a syslog daemon (apt-get install rsyslog) or run systemd-journald, then read /var/log/auth.log',
          false,
        ),
  );
  return { checks, promptAt };
}

function agentChecks(f: DoctorFindings, agent: AgentFinding): Check[] {
  if (!agent.reachable)
    return [problem('agent', `the agent does not answer on ${f.socket}: ${agent.problem}`, START_AGENT, true)];
  const checks: Check[] = [];
  const uids = f.agentUids.map(describeUid).join(' or ');
  if (agent.listenerUid === null)
    checks.push(info('agent', `the agent answers on ${f.socket} (who runs it could not be read)`));
  else if (!f.agentUids.includes(agent.listenerUid)) {
    checks.push(
      problem(
        'agent',
        `the agent on ${f.socket} runs as ${describeUid(agent.listenerUid)}, but the PAM module believes only ${uids} (agent_uid=): it ignores this agent`,
        `run the agent as root (systemctl start latchkey-agent), or add agent_uid=${agent.listenerUid} to the stack line`,
        true,
      ),
    );
  } else
    checks.push(
      ok(
        'agent',
        `the agent answers on ${f.socket} and runs as ${describeUid(agent.listenerUid)}, as the PAM module requires`,
      ),
    );
  if (agent.answer === null)
    checks.push(
      problem(
        'agent-status',
        `the agent gave no status for ${f.user}: ${agent.problem ?? 'no answer'}`,
        f.asRoot ? "read the agent's log" : `run it as root: sudo latchkey doctor --user ${f.user}`,
        true,
      ),
    );
  return checks;
}

function policyDescription(detail: StatusDetail | null, now: number): string {
  const policy = detail?.policy;
  if (!policy) return '';
  if (policy.source === 'control-center')
    return `signed by the Control Center, revision ${policy.version}, ${describeAge(now - Date.parse(policy.issuedAt))} old`;
  if (policy.source === 'config-file') return `from ${policy.file}`;
  return 'embedded defaults: the agent has no config file';
}

function offlineModeFix(detail: StatusDetail | null): string {
  const policy = detail?.policy;
  if (policy?.source === 'control-center')
    return "an administrator turns Offline Mode on in the Control Center (latchkey admin settings set offlineMode=true, or the console's Settings page)";
  const file = policy?.source === 'config-file' ? policy.file : '/etc/latchkey/agent.json';
  return `set "policy": {"offlineMode": true} in ${file} and restart the agent, or enroll this workstation with a Control Center (latchkey workstation enroll)`;
}

/** The agent's view of the user: setup, policy, pools, lockout, phones. */
function statusChecks(f: DoctorFindings, answer: StatusAnswer): Check[] {
  const checks: Check[] = [];
  const { detail, offlineMode } = answer;
  const user = f.user;
  if (detail?.keystore) {
    const what =
      detail.keystore.backend === 'file' ? 'sealed files only the agent reads (file)' : 'the OS keychain (os)';
    checks.push(
      detail.keystore.ready
        ? ok('keystore', `keystore: ${what}; the sealing key is readable`)
        : problem(
            'keystore',
            `keystore: ${what}; the sealing key cannot be read now`,
            detail.keystore.backend === 'os'
              ? 'unlock the keyring of the user the agent runs as, or use the file keystore for a system agent (docs/keystore.md)'
              : "read the agent's log (keystore.unavailable) and docs/keystore.md",
            true,
          ),
    );
  }
  if (answer.status !== 'ok') {
    const fix =
      answer.reason === 'state-unreadable'
        ? `latchkey reset --user ${user} --discard-state sets the unreadable state aside (then enroll again)`
        : "read the agent's log";
    checks.push(
      problem(
        'state',
        `the agent cannot use ${user}'s offline PINs: ${answer.message ?? answer.reason ?? answer.status}`,
        fix,
        true,
      ),
    );
    return checks;
  }
  const source = policyDescription(detail, f.now);
  checks.push(
    offlineMode
      ? ok('offline-mode', `offline PINs are on${source ? ` (policy ${source})` : ''}`)
      : problem(
          'offline-mode',
          `offline PINs are off${source ? ` (policy ${source})` : ''}: the lock screen asks for no PIN`,
          offlineModeFix(detail),
          true,
        ),
  );
  const cc = detail?.controlCenter;
  if (cc === null)
    checks.push(
      info(
        'control-center',
        'not enrolled with a Control Center: PINs come from "latchkey enroll", and no phone is asked online',
      ),
    );
  else if (cc) {
    const probe = f.controlCenterProbe;
    checks.push(
      cc.online || probe?.answered
        ? ok('control-center', `the Control Center ${cc.url} answers`)
        : problem(
            'control-center',
            `the Control Center ${cc.url} does not answer${probe && !probe.answered ? ` (${probe.problem})` : ''}: no online sign-in and no new PINs until it does`,
            'check the network and that the Control Center runs',
            false,
          ),
    );
  }
  if (detail) checks.push(...poolChecks(f, answer, detail));
  if (answer.online)
    checks.push(
      ok(
        'phone-online',
        `the lock screen asks ${user}'s phone online (a phone is paired and the Control Center answers)`,
      ),
    );
  checks.push(...bleChecks(f, detail));
  return checks;
}

function poolChecks(f: DoctorFindings, answer: StatusAnswer, detail: StatusDetail): Check[] {
  const checks: Check[] = [];
  const user = f.user;
  const refill = detail.controlCenter
    ? 'sign in online once (the phone approves) for new PINs'
    : `latchkey enroll --user ${user} for a new pool`;
  const current = detail.pools.filter((pool) => pool.pending !== true);
  const pending = detail.pools.filter((pool) => pool.pending === true);
  if (current.length === 0 && pending.length === 0) {
    const fix = detail.controlCenter
      ? `pair the phone (latchkey pair --user ${user}) and sign in online once: the first online sign-in brings the PINs (R2)`
      : `latchkey enroll --user ${user}, then import what it prints on the phone`;
    checks.push(problem('pins', `${user} has no offline PINs on this computer`, fix, true));
  }
  for (const pool of current) {
    const name = pool.authenticatorId;
    const until = pool.expiresAt.slice(0, 10);
    if (pool.expired)
      checks.push(problem('pins', `${name}: the offline PINs expired on ${until}`, refill, !answer.usable));
    else if (pool.remaining === 0)
      checks.push(problem('pins', `${name}: all ${pool.pinCount} offline PINs are used`, refill, !answer.usable));
    else
      checks.push(
        ok('pins', `${name}: ${pool.remaining} of ${pool.pinCount} offline PINs left, usable until ${until}`),
      );
  }
  for (const pool of pending)
    checks.push(
      info(
        'pins-pending',
        `${pool.authenticatorId}: ${pool.remaining} new PINs sent to the phone after a sign-in, not used yet (they work already)`,
      ),
    );
  if (detail.disabled)
    checks.push(
      problem(
        'lockout',
        `offline PINs are disabled for ${user} after 10 failed attempts`,
        `latchkey reset --user ${user} (root), or sign in online once`,
        true,
      ),
    );
  else if (answer.locked)
    checks.push(
      problem(
        'lockout',
        `offline PINs are locked for ${answer.retryAfter ?? detail.retryAfter ?? '?'} more seconds after ${detail.failures} failed attempts`,
        `wait, or latchkey reset --user ${user} (root)`,
        true,
      ),
    );
  else if (detail.failures > 0)
    checks.push(
      info('lockout', `${detail.failures} failed attempt${detail.failures === 1 ? '' : 's'} since the last success`),
    );
  return checks;
}

function bleChecks(f: DoctorFindings, detail: StatusDetail | null): Check[] {
  if (!detail?.ble) return [];
  if (!detail.ble.enabled) return [info('ble', "Bluetooth unlock is off (ble.enabled in the agent's config)")];
  const checks: Check[] = [];
  const adapter = f.bleAdapter;
  if (adapter) {
    checks.push(
      adapter.problem === null
        ? ok('ble-adapter', `the Bluetooth adapter ${adapter.transport} is usable`)
        : problem(
            'ble-adapter',
            `the Bluetooth adapter ${adapter.transport} (ble.transport): ${adapter.problem}`,
            'fix the adapter or name another in ble.transport (docs/ble-dongles.md "Troubleshooting")',
            false,
          ),
    );
  }
  const phones = detail.blePhones ?? [];
  checks.push(
    phones.length > 0
      ? ok('ble-pairing', `paired over Bluetooth: ${phones.map((p) => `${p.name} (${p.deviceId})`).join(', ')}`)
      : info(
          'ble-pairing',
          `no phone paired over Bluetooth for ${f.user}`,
          `latchkey ble pair --user ${f.user} (root)`,
        ),
  );
  return checks;
}

export function diagnose(f: DoctorFindings): Diagnosis {
  const checks: Check[] = [];
  if (!f.userExists)
    checks.push(problem('user', `there is no user ${f.user} on this computer`, 'name one with --user', true));
  checks.push(...agentChecks(f, f.agent));
  const pam = pamChecks(f);
  checks.push(...pam.checks);
  const answer = f.agent.reachable ? f.agent.answer : null;
  if (answer) checks.push(...statusChecks(f, answer));
  const listenerTrusted =
    f.agent.reachable && (f.agent.listenerUid === null || f.agentUids.includes(f.agent.listenerUid));
  const pinPrompt =
    f.userExists &&
    listenerTrusted &&
    pam.promptAt.length > 0 &&
    answer !== null &&
    answer.status === 'ok' &&
    answer.offlineMode &&
    answer.usable &&
    !answer.locked;
  return { user: f.user, pinPrompt, promptAt: pam.promptAt, checks };
}
