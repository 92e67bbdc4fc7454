/**
 * Real things for the PAM module's integration tests: the agent run through its CLI on a
 * temporary directory, real local users, PAM service files in /etc/pam.d and pamtester.
 * Everything created here is removed by the matching cleanup call.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { ROOT, pamModule } from './native-tools.js';
import { administer } from '../../platform/linux/helpers.js';
import { stateFileName } from '../../../agent/state/user-state-store.js';
import { latchkeyCommand } from '../../../cli/agent-process.js';

export const BIN = join(ROOT, 'bin', 'latchkey.js');
export const TEST_POLICY = {
  offlineMode: true,
  pinCount: 25,
  pinLength: 8,
  pinCharset: 'alphanumeric',
  offlineAccessDays: 30,
  lowPinWarnPercent: 20,
};
/** The lowest Argon2id cost the agent accepts: tests check behaviour, bench/ measures cost. */
export const TEST_KDF = { memoryKiB: 8, iterations: 1 };

export interface Agent {
  readonly dir: string;
  readonly socket: string;
  readonly stateDir: string;
  readonly child: ChildProcess;
  output(): string;
  /** Stops the agent (also a paused one) and removes its directory. */
  stop(): Promise<void>;
}

function canConnect(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(socket);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

/** Starts `latchkey agent` in the foreground; resolves once its socket accepts connections. */
export async function startAgent(
  options: {
    policy?: Partial<typeof TEST_POLICY>;
    kdf?: typeof TEST_KDF | null;
    dir?: string;
    logLevel?: 'debug' | 'info';
  } = {},
): Promise<Agent> {
  const dir = options.dir ?? mkdtempSync('/tmp/latchkey-pam-');
  chmodSync(dir, 0o755); // screen lockers run as the user and must reach the socket
  const configFile = join(dir, 'agent.json');
  const config: Record<string, unknown> = { policy: { ...TEST_POLICY, ...options.policy } };
  if (options.kdf !== null) config.kdf = options.kdf ?? TEST_KDF;
  writeFileSync(configFile, JSON.stringify(config), { mode: 0o644 });
  const socket = join(dir, 'run', 'agent.sock');
  const stateDir = join(dir, 'state');
  // As shipped: the bin's V8 flags (cli/agent-process.ts).
  const run = latchkeyCommand([
    'agent',
    '--state-dir',
    stateDir,
    '--socket',
    socket,
    '--config',
    configFile,
    '--log-level',
    options.logLevel ?? 'info',
  ]);
  const child = spawn(run.command, run.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const deadline = Date.now() + 20_000;
  while (!(await canConnect(socket))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the agent did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    dir,
    socket,
    stateDir,
    child,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        await new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGCONT');
          child.kill('SIGTERM');
        });
      }
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function latchkey(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', input, timeout: 60_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** Issues a pool for user; returns the import URI the phone would read. */
export function enroll(agent: Agent, user: string): string {
  const run = latchkey(['enroll', '--user', user, '--socket', agent.socket, '--json']);
  if (run.status !== 0) throw new Error(`enroll failed: ${run.stderr}`);
  return (JSON.parse(run.stdout) as { uri: string }).uri;
}

/** The PINs the phone shows for counters from … from+count-1. */
export function pins(uri: string, from: number, count = 1): string[] {
  const run = latchkey(['pins', '--uri', uri, '--from', String(from), '--count', String(count)]);
  if (run.status !== 0) throw new Error(`pins failed: ${run.stderr}`);
  return run.stdout.trim().split('\n');
}

export interface TestUser {
  readonly name: string;
  readonly password: string;
  readonly uid: number;
}

/**
 * How a PAM test begins: `[agent, uri, ...users]`, the agent started, a user created for each tag
 * and the first of them enrolled (`uri`: the import URI its phone would read); the others are
 * never enrolled. What it made before a failure is stopped and removed again.
 */
export async function startAgentForUsers<Tags extends [string, ...string[]]>(
  ...tags: Tags
): Promise<[Agent, string, ...{ [K in keyof Tags]: TestUser }]> {
  const agent = await startAgent();
  const users: TestUser[] = [];
  try {
    for (const tag of tags) users.push(createUser(tag));
    const uri = enroll(agent, users[0]!.name);
    return [agent, uri, ...(users as { [K in keyof Tags]: TestUser })];
  } catch (error) {
    await agent.stop();
    for (const user of users) removeUser(user);
    throw error;
  }
}

/** A real local user with a known password (pam_unix checks it). */
export function createUser(tag: string): TestUser {
  const name = `lk${process.pid % 100000}${tag}`.slice(0, 31);
  const password = `Pw-${tag}-${process.pid}-ok`;
  removeUserNamed(name);
  administer('useradd', ['-m', '-s', '/bin/sh', name]);
  administer('chpasswd', [], `${name}:${password}\n`);
  const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
  return { name, password, uid };
}

export function removeUser(user: TestUser | undefined): void {
  if (user) removeUserNamed(user.name);
}

function removeUserNamed(name: string): void {
  if (spawnSync('getent', ['passwd', name]).status === 0) administer('userdel', ['-r', '-f', name]);
}

/** The module's stack line: `CONTROL /abs/pam_latchkey.so socket=… OPTIONS`. */
export function moduleLine(control: string, agent: Pick<Agent, 'socket'>, options = ''): string {
  return `auth ${control} ${pamModule()} socket=${agent.socket} ${options}`.trimEnd();
}

const services: string[] = [];
/** Writes /etc/pam.d/NAME (named after this process) and returns the service name. */
export function pamService(tag: string, authLines: string[]): string {
  const name = `latchkey-test-${process.pid}-${tag}`;
  mkdirSync('/etc/pam.d', { recursive: true });
  writeFileSync(join('/etc/pam.d', name), [...authLines, 'account required pam_permit.so', ''].join('\n'));
  services.push(name);
  return name;
}

export function removePamServices(): void {
  for (const name of services.splice(0)) rmSync(join('/etc/pam.d', name), { force: true });
}

/** Takes back what a test added to the machine: the PAM service files it wrote, then its users. */
export function removePamServicesAndUsers(...users: Array<TestUser | undefined>): void {
  removePamServices();
  for (const user of users) removeUser(user);
}

export interface PamRun {
  readonly status: number | null;
  readonly output: string; // pamtester's stdout and stderr: prompts, messages, verdict
  readonly ms: number;
}

/** `pamtester SERVICE USER authenticate…` with stdin answering the conversation. */
export function pamtester(
  service: string,
  user: string,
  input: string,
  operations = ['authenticate'],
  wrapper: string[] = [],
): PamRun {
  const started = performance.now();
  const command = [...wrapper, 'pamtester', '-v', service, user, ...operations];
  const run = spawnSync(command[0]!, command.slice(1), { encoding: 'utf8', input, timeout: 120_000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}`, ms: performance.now() - started };
}

export interface TimedPamRun extends PamRun {
  /** ms from the start until each watched text first appeared in pamtester's output (absent: never). */
  readonly seenAt: Readonly<Record<string, number>>;
}

/**
 * pamtester in the background (for an agent in this same process, which a blocking run would
 * starve), noting when each of `watch` first appears: the time a person waits for a prompt.
 */
export function pamtesterTimed(
  service: string,
  user: string,
  input: string,
  watch: readonly string[] = [],
  operations = ['authenticate'],
): Promise<TimedPamRun> {
  const started = performance.now();
  // Unbuffered, so each message shows when pamtester writes it, not when its pipe buffer flushes.
  const child = spawn('stdbuf', ['-o0', '-e0', 'pamtester', '-v', service, user, ...operations], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  const seenAt: Record<string, number> = {};
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    for (const text of watch)
      if (seenAt[text] === undefined && output.includes(text)) seenAt[text] = performance.now() - started;
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  child.stdin!.end(input);
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  return new Promise((resolve) => {
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, output, ms: performance.now() - started, seenAt });
    });
  });
}

/** pamtester's verdicts (pam_strerror of what the stack returned). */
export const VERDICT = {
  success: 'successfully authenticated',
  authErr: 'Authentication failure',
  maxTries: 'Have exhausted maximum number of retries for service',
  authinfoUnavail: 'Authentication service cannot retrieve authentication info',
  /** every module of the stack stepped aside (PAM_IGNORE from a lone `required` module) */
  noDecision: 'Permission denied',
};

/** The user's state journal (docs/state-files.md); the name comes from the agent's own code. */
export function userStateFile(agent: Agent, user: string): string {
  return join(agent.stateDir, 'users', stateFileName(user));
}

/** The agent's audit log (audit.jsonl), one entry a line, oldest first. */
export function auditEntries(agent: Agent): Array<Record<string, unknown>> {
  return readFileSync(join(agent.stateDir, 'audit.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
}

export { existsSync };
