/**
 * The whole online system as separate real processes for end-to-end tests: a Control Center on
 * SQLite (restartable on the same port and database), agents, and phones driven through the
 * `latchkey phone` CLI with their own vaults.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { latchkeyCommand } from '../../cli/agent-process.js';
import { runCli, type CliResult, startCli } from './run-cli.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

export class ControlCenterProcess {
  child: ChildProcess | null = null;
  stdout = '';
  stderr = '';
  adminToken = '';

  constructor(
    readonly databaseFile: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const run = latchkeyCommand([
      'control-center',
      '--db',
      this.databaseFile,
      '--listen',
      `127.0.0.1:${this.port}`,
      '--log-level',
      'debug',
    ]);
    const child = spawn(run.command, run.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout!.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the Control Center did not start: ${this.stderr}`)), 30_000);
      child.stderr!.on('data', (chunk: Buffer) => {
        this.stderr += chunk.toString();
        if (/control-center\.listening/.test(this.stderr.split('\n').slice(-5).join('\n'))) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => reject(new Error(`the Control Center exited with ${code}: ${this.stderr}`)));
    });
    this.adminToken ||= /lk_admin_[A-Za-z0-9_-]{43}/.exec(this.stdout)?.[0] ?? '';
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }

  admin(args: string[]): Promise<CliResult> {
    return runCli(['admin', '--url', this.url, ...args], { env: { LATCHKEY_ADMIN_TOKEN: this.adminToken } });
  }
}

/** A phone: its home directory and passphrase, and the `latchkey phone` CLI. */
export class PhoneCli {
  #serving: ChildProcess | null = null;
  serveOutput = '';

  constructor(
    readonly home: string,
    readonly passphraseFile: string,
  ) {}

  static async create(dir: string, name: string): Promise<PhoneCli> {
    const home = path.join(dir, `phone-${name}`);
    const passphraseFile = path.join(dir, `phone-${name}.passphrase`);
    await fs.writeFile(passphraseFile, `passphrase of ${name}'s phone\n`, { mode: 0o600 });
    const phone = new PhoneCli(home, passphraseFile);
    const init = await phone.run(['init', '--name', name]);
    if (init.code !== 0) throw new Error(`phone init: ${init.stderr}`);
    return phone;
  }

  run(args: string[], options: { offline?: boolean; timeoutMs?: number } = {}): Promise<CliResult> {
    const head = [
      'phone',
      '--home',
      this.home,
      '--passphrase-file',
      this.passphraseFile,
      ...(options.offline ? ['--offline'] : []),
    ];
    return runCli([...head, ...args], { timeoutMs: options.timeoutMs ?? 60_000 });
  }

  /** `serve --auto-approve` in the background: the phone online, approving and importing pools. */
  startServing(): void {
    if (this.#serving) return;
    const run = latchkeyCommand([
      'phone',
      '--home',
      this.home,
      '--passphrase-file',
      this.passphraseFile,
      'serve',
      '--auto-approve',
    ]);
    const child = spawn(run.command, run.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (chunk: Buffer) => (this.serveOutput += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (this.serveOutput += chunk.toString()));
    this.#serving = child;
  }

  async stopServing(): Promise<void> {
    const child = this.#serving;
    this.#serving = null;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}

/**
 * Pairs a phone for `user` the way a person does: `latchkey pair` on the workstation shows the
 * code, the phone redeems it, and the workstation confirms (both exit 0, or this throws).
 */
export async function pairThroughAgent(
  socket: string,
  user: string,
  phone: PhoneCli,
  ccUrl: string,
): Promise<{ pairOut: string; phoneOut: string; code: string }> {
  const pairing = startCli(['pair', '--user', user, '--wait', '60', '--socket', socket]);
  try {
    const code = await eventually(
      'the pairing code',
      async () =>
        /\b([0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4})\b/.exec(
          pairing.output(),
        )?.[1],
    );
    const phoneRun = await phone.run(['pair', code, '--url', ccUrl]);
    if (phoneRun.code !== 0) throw new Error(`the phone did not pair: ${phoneRun.stderr}`);
    const exit = await pairing.exited;
    if (exit !== 0) throw new Error(`latchkey pair exited with ${exit}: ${pairing.output()}`);
    return { pairOut: pairing.output(), phoneOut: phoneRun.stdout, code };
  } finally {
    pairing.stop();
  }
}

/** Polls `check` until it returns a value (not undefined), or fails after `timeoutMs` saying `what`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
