/**
 * Reads what `latchkey doctor` judges (findings.ts): the PAM configuration and module files, the
 * syslog socket, who listens on the agent's socket (SO_PEERCRED, as the PAM module checks it),
 * the agent's status for the user, and the Bluetooth adapter. Every read answers; none throws.
 */
import { readdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { runsAsAdministrator } from '../../platform/users.js';
import path from 'node:path';
import { DEFAULT_SOCKET } from '../../agent/config.js';
import { InsecurePathError, checkStats } from '../../platform/secure-path.js';
import { localTransport } from '../../platform/ipc-transport.js';
import { lookupUserByName } from '../../platform/users.js';
import { AgentClientError, askAgent, unreachableBecause } from '../agent-client.js';
import { probeControlCenter } from '../control-center-reach.js';
import type { AgentFinding, DoctorFindings, ModuleFile, PamFinding, StatusAnswer, StatusDetail } from './findings.js';
import { KNOWN_SURFACES, MODULE_NAME, modulePath, reachOf, type ServiceReach } from './pam-stacks.js';

export const DEFAULT_PAM_DIR = '/etc/pam.d';
export const DEFAULT_SYSLOG_SOCKET = '/dev/log';
/** As long as the agent's own probe before an online sign-in may take, and a little more. */
const CC_PROBE_MS = 3_000;
const MAX_PAM_FILES = 2_000;
const MAX_PAM_FILE_BYTES = 256 * 1024;

export interface GatherOptions {
  readonly user: string;
  /** The agent's socket; default: the one the stack lines name, else /run/latchkey/agent.sock. */
  readonly socket?: string | undefined;
  readonly timeoutMs: number;
  readonly pamDirectory: string;
  /** Default: where this machine's pam_unix.so is. */
  readonly moduleDirectory?: string | undefined;
  readonly syslogSocket: string;
}

/** stat(2), or null for anything that cannot be stat'ed (missing, no permission, a file in the path). */
function statOrNull(file: string): Stats | null {
  try {
    return statSync(file);
  } catch {
    return null;
  }
}

const MULTIARCH: Partial<Record<string, string>> = {
  x64: 'x86_64-linux-gnu',
  arm64: 'aarch64-linux-gnu',
  arm: 'arm-linux-gnueabihf',
  ia32: 'i386-linux-gnu',
  ppc64: 'powerpc64le-linux-gnu',
  s390x: 's390x-linux-gnu',
  riscv64: 'riscv64-linux-gnu',
};

/** libpam's module directory: where pam_unix.so is (`/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/security` on Debian). */
export function findModuleDirectory(): string {
  const triplet = MULTIARCH[process.arch];
  const candidates = [
    ...(triplet ? [`/lib/${triplet}/security`, `/usr/lib/${triplet}/security`] : []),
    '/lib64/security',
    '/usr/lib64/security',
    '/lib/security',
    '/usr/lib/security',
  ];
  const isFile = (file: string) => statOrNull(file)?.isFile() === true;
  const isDirectory = (dir: string) => statOrNull(dir)?.isDirectory() === true;
  return (
    candidates.find((dir) => isFile(path.join(dir, 'pam_unix.so'))) ?? candidates.find(isDirectory) ?? candidates[0]!
  );
}

function gatherPam(options: GatherOptions): PamFinding {
  const configDirectory = options.pamDirectory;
  const moduleDirectory = options.moduleDirectory ?? findModuleDirectory();
  let names: string[];
  try {
    names = readdirSync(configDirectory).slice(0, MAX_PAM_FILES);
  } catch {
    return { configDirectory, configDirectoryExists: false, moduleDirectory, services: [], moduleFiles: [] };
  }
  const cache = new Map<string, string | null>();
  const read = (file: string): string | null => {
    if (cache.has(file)) return cache.get(file)!;
    let text: string | null = null;
    if (!file.includes('/') && file !== '.' && file !== '..') {
      try {
        const target = path.join(configDirectory, file);
        if (statSync(target).size <= MAX_PAM_FILE_BYTES) text = readFileSync(target, 'utf8');
      } catch {
        text = null;
      }
    }
    cache.set(file, text);
    return text;
  };
  const known = new Set<string>(KNOWN_SURFACES);
  const services: ServiceReach[] = names
    .sort()
    .map((name) => reachOf(name, read))
    .filter((reach) => reach.references.length > 0 || known.has(reach.service));
  services.sort((a, b) => rank(a.service) - rank(b.service) || a.service.localeCompare(b.service));
  const paths = [...new Set(services.flatMap((s) => s.references.map((r) => modulePath(r.path, moduleDirectory))))];
  const moduleFiles = (paths.length > 0 ? paths : [path.join(moduleDirectory, MODULE_NAME)]).map(moduleFile);
  return { configDirectory, configDirectoryExists: true, moduleDirectory, services, moduleFiles };
}

function rank(service: string): number {
  const index = (KNOWN_SURFACES as readonly string[]).indexOf(service);
  return index < 0 ? KNOWN_SURFACES.length : index;
}

/** The module file as libpam would load it (following links): present, a file, root's, not writable by others. */
function moduleFile(file: string): ModuleFile {
  try {
    const stats = statSync(file);
    if (!stats.isFile()) return { path: file, state: 'not-a-file', problem: 'not a regular file' };
    checkStats(file, stats, { owners: [0], forbiddenModeBits: 0o022 });
    return { path: file, state: 'ok' };
  } catch (error) {
    if (error instanceof InsecurePathError)
      return { path: file, state: 'insecure', problem: error.message.replace(`${file} `, '') };
    return { path: file, state: 'missing' };
  }
}

/** Who listens on the socket, as the kernel recorded it when it accepted the connection. */
function listenerUid(socketPath: string, timeoutMs: number): Promise<{ uid: number | null } | { problem: string }> {
  return new Promise((resolve) => {
    const transport = localTransport();
    const socket = transport.connect(socketPath);
    const timer = setTimeout(() => finish({ problem: `no connection within ${timeoutMs} ms` }), timeoutMs);
    const finish = (result: { uid: number | null } | { problem: string }) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    socket.once('connect', () => {
      try {
        const { uid } = transport.identifyServer(socket);
        // The PAM module's agent_uid option is a number: doctor reads Linux's PAM stacks.
        finish({ uid: typeof uid === 'number' ? uid : null });
      } catch {
        finish({ uid: null });
      }
    });
    socket.once('error', (error: NodeJS.ErrnoException) => finish({ problem: unreachableBecause(error) }));
  });
}

async function gatherAgent(socket: string, user: string, timeoutMs: number): Promise<AgentFinding> {
  const listener = await listenerUid(socket, timeoutMs);
  if ('problem' in listener) return { reachable: false, problem: listener.problem };
  try {
    const reply = await askAgent(socket, { op: 'status', user }, timeoutMs);
    if (reply.status !== 'ok' && reply.status !== 'unavailable') {
      return {
        reachable: true,
        listenerUid: listener.uid,
        answer: null,
        problem: `${reply.message ?? 'refused'} (${reply.reason ?? reply.status})`,
      };
    }
    let detail: StatusDetail | null = null;
    try {
      detail = reply.detail ? (JSON.parse(reply.detail) as StatusDetail) : null;
    } catch {
      detail = null;
    }
    const answer: StatusAnswer = {
      status: reply.status,
      reason: reply.reason,
      message: reply.message,
      offlineMode: reply.offlineMode ?? false,
      usable: reply.usable ?? false,
      locked: reply.locked ?? false,
      retryAfter: reply.retryAfter,
      online: reply.online ?? false,
      ble: reply.ble ?? false,
      detail,
    };
    return { reachable: true, listenerUid: listener.uid, answer };
  } catch (error) {
    const problem = error instanceof AgentClientError ? error.message : (error as Error).message;
    return { reachable: true, listenerUid: listener.uid, answer: null, problem };
  }
}

async function gatherAdapter(transport: string): Promise<{ transport: string; problem: string | null }> {
  try {
    const { parseTransport } = await import('../../ble/transport-spec.js');
    const { probeAdapter } = await import('../../ble/adapter-probe.js');
    const { adapterProblem } = await import('../../ble/adapter-check.js');
    const parsed = parseTransport(transport);
    return { transport, problem: adapterProblem(parsed, probeAdapter(parsed)) };
  } catch (error) {
    return { transport, problem: (error as Error).message };
  }
}

function userExists(user: string): boolean {
  try {
    return lookupUserByName(user) !== null;
  } catch {
    return true; // the passwd lookup itself failed: the agent's answer will say more
  }
}

export async function gather(options: GatherOptions): Promise<DoctorFindings> {
  const pam = gatherPam(options);
  const references = pam.services.flatMap((s) => s.references);
  const uids = references.map((r) =>
    typeof r.options.agent_uid === 'string' && /^\d+$/.test(r.options.agent_uid) ? Number(r.options.agent_uid) : 0,
  );
  const sockets = [
    ...new Set(references.map((r) => (typeof r.options.socket === 'string' ? r.options.socket : DEFAULT_SOCKET))),
  ];
  const socket = options.socket ?? (sockets.length === 1 ? sockets[0]! : DEFAULT_SOCKET);
  const agent = await gatherAgent(socket, options.user, options.timeoutMs);
  const detail = agent.reachable ? agent.answer?.detail : undefined;
  const ble = detail?.ble;
  const cc = detail?.controlCenter;
  return {
    user: options.user,
    userExists: userExists(options.user),
    socket,
    agentUids: uids.length > 0 ? [...new Set(uids)] : [0],
    agent,
    pam,
    syslog: { path: options.syslogSocket, present: statOrNull(options.syslogSocket)?.isSocket() === true },
    controlCenterProbe: cc
      ? cc.online
        ? { answered: true }
        : await probeControlCenter(cc.url, Math.min(options.timeoutMs, CC_PROBE_MS))
      : null,
    bleAdapter: ble?.enabled ? await gatherAdapter(ble.transport) : null,
    asRoot: runsAsAdministrator(),
    now: Date.now(),
  };
}
