/**
 * Test harness: a real agent (in this process, or as a child process through the CLI) on a
 * temporary directory with a real socket, real sealed files and the real file keystore.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startAgent, type RunningAgent, type StartAgentOptions } from '../../agent/agent.js';
import type { Clock } from '../../platform/clock.js';
import { resolveAgentConfig, type AgentConfig } from '../../agent/config.js';
import { createLogger, type Logger } from '../../platform/log.js';
import { askAgent, type RequestWithoutId } from '../../cli/agent-client.js';
import { latchkeyCommand } from '../../cli/agent-process.js';
import { nodeFetch } from '../../platform/node-fetch.js';
import { utf8, wipe } from '../../protocol/bytes.js';
import { parseEnrollmentUri, type EnrollmentImport } from '../../protocol/enrollment-uri.js';
import type { Reply } from '../../protocol/ipc-messages.js';
import { deriveOfflinePin, formatPinForDisplay } from '../../protocol/offline-pin.js';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = path.join(REPO, 'bin/latchkey.js');
/** The cheapest Argon2id the agent accepts: tests measure behaviour, benchmarks measure cost. */
export const TEST_KDF = { memoryKiB: 8, iterations: 1 } as const;

const tempDirs = new Set<string>();
/** Agents this test file started, each with how to signal it (and, wrapped, the wrapper's children). */
const agentProcesses = new Map<ChildProcess, (signal: NodeJS.Signals) => void>();

/** A 0700 temp dir, removed after the test file (test/setup/cleanup.ts). */
export async function makeTempDir(prefix = 'latchkey-test-'): Promise<string> {
  const dir = await fs.mkdtemp(path.join(tmpdir(), prefix));
  await fs.chmod(dir, 0o700);
  tempDirs.add(dir);
  return dir;
}

/** After a test file: kills agents a failed test left running, then removes the temp dirs. */
export async function removeTempDirs(): Promise<void> {
  await Promise.all(
    [...agentProcesses].map(async ([child, signal]) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      signal('SIGKILL');
      await exited;
    }),
  );
  agentProcesses.clear();
  await Promise.all([...tempDirs].map((dir) => fs.rm(dir, { recursive: true, force: true })));
  tempDirs.clear();
}

export interface AgentFiles {
  readonly dir: string;
  readonly configFile: string;
  readonly stateDir: string;
  readonly socket: string;
  readonly auditLog: string;
  readonly keystoreDir: string;
}

export async function writeAgentConfig(
  dir: string,
  policy: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Promise<AgentFiles> {
  const files: AgentFiles = {
    dir,
    configFile: path.join(dir, 'agent.json'),
    stateDir: path.join(dir, 'state'),
    socket: path.join(dir, 'agent.sock'),
    auditLog: path.join(dir, 'audit.jsonl'),
    keystoreDir: path.join(dir, 'keystore'),
  };
  const config = {
    policy,
    stateDir: files.stateDir,
    socket: files.socket,
    auditLog: files.auditLog,
    keystore: { backend: 'file', directory: files.keystoreDir },
    kdf: TEST_KDF,
    ...extra,
  };
  await fs.writeFile(files.configFile, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  return files;
}

export interface InProcessAgent {
  readonly files: AgentFiles;
  readonly agent: RunningAgent;
  readonly logLines: string[];
  ask(request: RequestWithoutId, timeoutMs?: number): Promise<Reply>;
  close(): Promise<void>;
}

/** Starts the agent in this process (so a test can inject a clock) with a captured log. */
export async function startInProcessAgent(
  files: AgentFiles,
  options: {
    clock?: Clock;
    policy?: Record<string, unknown>;
    log?: Logger;
    ipcLimits?: StartAgentOptions['ipcLimits'];
    auditLimits?: StartAgentOptions['auditLimits'];
    bleTransport?: StartAgentOptions['bleTransport'];
    fetch?: StartAgentOptions['fetch'];
    /** The Windows path on Linux (docs/windows.md §5–6): the OS decided for, the password check, SIDs. */
    windows?: Pick<StartAgentOptions, 'platformName' | 'passwordCheck' | 'lookupAccount'>;
  } = {},
): Promise<InProcessAgent> {
  const json = JSON.parse(await fs.readFile(files.configFile, 'utf8')) as Record<string, unknown>;
  if (options.policy) json.policy = options.policy;
  const config: AgentConfig = resolveAgentConfig(json, files.configFile);
  const logLines: string[] = [];
  const agent = await startAgent({
    config,
    clock: options.clock,
    ipcLimits: options.ipcLimits,
    auditLimits: options.auditLimits,
    fetch: options.fetch ?? nodeFetch,
    ...(options.bleTransport && { bleTransport: options.bleTransport }),
    ...options.windows,
    log: options.log ?? createLogger({ level: 'debug', write: (line) => logLines.push(line) }),
  });
  return {
    files,
    agent,
    logLines,
    ask: (request, timeoutMs = 10_000) => askAgent(files.socket, request, timeoutMs),
    close: () => agent.close(),
  };
}

export interface AgentProcess {
  readonly child: ChildProcess;
  readonly output: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Runs `latchkey agent` as a child process and waits until its socket accepts connections. */
export async function spawnAgent(
  files: AgentFiles,
  options: { env?: NodeJS.ProcessEnv; command?: string[] } = {},
): Promise<AgentProcess> {
  const run = latchkeyCommand(['agent', '--config', files.configFile, '--log-level', 'debug']);
  // `command` wraps the agent (e.g. ['faketime', '-f', '-1d']). faketime forks the agent and does
  // not pass signals on, so a wrapped agent gets a process group of its own and is signalled as one.
  const [command, ...prefix] = options.command ?? [];
  const spawnOptions = {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'] as ['ignore', 'pipe', 'pipe'],
    detached: command !== undefined,
  };
  const child = command
    ? spawn(command, [...prefix, run.command, ...run.args], spawnOptions)
    : spawn(run.command, run.args, spawnOptions);
  const signal = (name: NodeJS.Signals) => {
    if (!command) return void child.kill(name);
    try {
      process.kill(-child.pid!, name);
    } catch {
      // the group is gone already
    }
  };
  /** Resolves once every process of a wrapped agent's group has exited. */
  const groupGone = async () => {
    for (let alive = command !== undefined; alive; ) {
      try {
        process.kill(-child.pid!, 0);
        await new Promise((resolve) => setTimeout(resolve, 20));
      } catch {
        alive = false;
      }
    }
  };
  agentProcesses.set(child, signal);
  child.once('exit', () => agentProcesses.delete(child));
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`agent exited with ${child.exitCode}: ${output}`);
    if (await canConnect(files.socket)) break;
    if (Date.now() > deadline) throw new Error(`agent did not start: ${output}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    child,
    output: () => output,
    async stop(name = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) signal(name);
      const code = await exited;
      await groupGone();
      return code;
    },
  };
}

export function canConnect(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(socket, () => {
      probe.destroy();
      resolve(true);
    });
    probe.on('error', () => resolve(false));
  });
}

/** The phone's side of an enrollment: PINs from the import URI. */
export class Phone {
  readonly imported: EnrollmentImport;
  constructor(uri: Uint8Array) {
    this.imported = parseEnrollmentUri(Buffer.from(uri).toString('utf8'));
  }
  pin(counter: number): string {
    const pin = deriveOfflinePin(this.imported.seed, counter, this.imported.format);
    const shown = formatPinForDisplay(pin, this.imported.format.charset);
    wipe(pin);
    return shown;
  }
  pinBytes(counter: number): Uint8Array {
    return utf8(this.pin(counter));
  }
}

export async function enroll(ask: InProcessAgent['ask'], user: string, authenticator = 'phone'): Promise<Phone> {
  const reply = await ask({ op: 'enroll', user, authenticator }, 60_000);
  if (reply.status !== 'ok' || !reply.secret)
    throw new Error(`enroll failed: ${JSON.stringify({ ...reply, secret: undefined })}`);
  return new Phone(reply.secret);
}

export const verifyWith = (ask: InProcessAgent['ask'], user: string, pin: string) =>
  ask({ op: 'verify', user, pin: utf8(pin), context: 'test' });
