/**
 * The real agent on Windows under wine, for test/windows/agent*.integration.test.ts: the
 * staged app (dist and its production dependencies with their win32 prebuilds) under node.exe as
 * the service LatchkeyAgent through the real service wrapper, its defaults in the ProgramData known
 * folder, the provider registered for cp-harness.exe, and the real CLI under node.exe.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, WinePrefix, buildWindowsParts, mingw, nodeExe, waitFor, windowsPath } from './wine.js';

export const OPTIONS_KEY = 'HKLM\\SOFTWARE\\Latchkey\\CredentialProvider';
/** A pairing code as `latchkey pair` and `latchkey ble pair` show it. */
const PAIRING_CODE = /\b([0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4})\b/;

/** Every file under `dir`, recursively. */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** One step of cp-harness.exe's JSON (native/windows/cp-harness.c). */
export interface HarnessStep {
  step: string;
  response?: number;
  icon?: number;
  text?: string;
  said?: string;
  status?: string;
  changed?: number;
  autoLogon?: number;
  fields?: Record<string, { state: string; interactive: string }>;
  serialization?: { domain: string; user: string; password: string; messageType: number } | null;
}

export class RealAgent {
  readonly build: string;
  readonly app: string;
  readonly node: string;
  /** The prefix's one user, and its computer's name (the domain of a local account). */
  readonly user: string;
  readonly computer: string;

  private constructor(readonly wine: WinePrefix) {
    this.build = join(wine.dir, 'build');
    this.app = join(wine.dir, 'app');
    buildWindowsParts(this.build);
    this.node = windowsPath(nodeExe());
    this.user = wine.run(['cmd', '/c', 'echo %USERNAME%']).stdout.trim();
    this.computer = wine.run(['cmd', '/c', 'echo %COMPUTERNAME%']).stdout.trim();
  }

  /**
   * A new prefix with the agent installed as LatchkeyAgent with `config` as its agent.json, and
   * started. `serialPorts` maps COM ports to Linux devices (a virtual controller's pty), as wine's
   * dosdevices do. Stop it all with destroy().
   */
  static async start(config: object, serialPorts: Record<string, string> = {}): Promise<RealAgent> {
    const agent = new RealAgent(WinePrefix.create());
    try {
      await agent.#setUp(config, serialPorts);
      return agent;
    } catch (error) {
      await agent.destroy(); // a step that failed leaves no prefix, wineserver or service behind
      throw error;
    }
  }

  async #setUp(config: object, serialPorts: Record<string, string>): Promise<void> {
    const { wine } = this;
    for (const [port, device] of Object.entries(serialPorts))
      symlinkSync(device, join(wine.prefix, 'dosdevices', port.toLowerCase()));
    // the app as the MSI installs it: dist, bin and production node_modules with the win32 prebuilds
    execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { stageApp } = await import(${JSON.stringify(join(ROOT, 'installer', 'staging.mjs'))}); stageApp(${JSON.stringify(this.app)}, '0.1.0', 'win32-x64');`,
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    // wine 8 lacks ProcessPrng, which the Rust-built argon2 addon imports (docs/windows.md §10);
    // the override in the registry reaches the service too, which an environment variable would not
    mingw(
      wine.driveC('windows', 'system32', 'bcryptprimitives.dll'),
      [join(ROOT, 'test', 'windows', 'c', 'process-prng-stand-in.c')],
      ['-shared', '-lbcrypt'],
    );
    wine.reg(['add', 'HKCU\\Software\\Wine\\DllOverrides', '/v', 'bcryptprimitives', '/d', 'native', '/f']);
    wine.addNegotiatePackage();
    wine.registerProvider(join(this.build, 'latchkey-cp.dll'));
    // Under wine every process runs as the same user; on Windows the agent's SID is SYSTEM's (the default).
    this.option('AgentAccount', wine.sid(join(this.build, 'cp-harness.exe')));
    mkdirSync(this.dataDir, { recursive: true });
    writeFileSync(join(this.dataDir, 'agent.json'), JSON.stringify(config));
    wine.createAgentService(join(this.build, 'latchkey-service.exe'), this.serviceLog, [
      ...this.cli(),
      'agent',
      '--log-level',
      'debug',
      '--stop-on-stdin-close',
    ]);
    await this.startService();
  }

  get serviceLog(): string {
    return join(this.wine.dir, 'agent.log');
  }

  /** %ProgramData%\Latchkey, as a Linux path. */
  get dataDir(): string {
    return this.wine.driveC('ProgramData', 'Latchkey');
  }

  /** A value under the provider's options key (§4.2); undefined deletes it. */
  option(name: string, value: string | number | undefined): void {
    if (value === undefined) this.wine.run(['reg', 'delete', OPTIONS_KEY, '/v', name, '/f'], { allowFailure: true });
    else if (typeof value === 'number')
      this.wine.reg(['add', OPTIONS_KEY, '/v', name, '/t', 'REG_DWORD', '/d', String(value), '/f']);
    else this.wine.reg(['add', OPTIONS_KEY, '/v', name, '/d', value, '/f']);
  }

  private cli(): string[] {
    return [
      this.node,
      '--lite-mode',
      '--no-expose-wasm',
      '--single-threaded-gc',
      windowsPath(join(this.app, 'bin', 'latchkey.js')),
    ];
  }

  /** The real CLI under node.exe, as a person at the computer runs it; `stdin` is written to a file first. */
  latchkey(args: string[], options: { allowFailure?: boolean; stdin?: string } = {}) {
    const stdinFile = options.stdin === undefined ? undefined : join(this.wine.dir, `stdin-${process.pid}.txt`);
    if (stdinFile) writeFileSync(stdinFile, options.stdin!, { mode: 0o600 });
    try {
      return this.wine.run([...this.cli(), ...args], {
        ...(options.allowFailure === undefined ? {} : { allowFailure: options.allowFailure }),
        ...(stdinFile ? { stdinFile } : {}),
      });
    } finally {
      if (stdinFile) rmSync(stdinFile, { force: true });
    }
  }

  /** The real CLI in the background, its output in `log`; stopped by pid in destroy() if still running. */
  startLatchkey(args: string[], log: string): ChildProcess {
    return this.wine.start([...this.cli(), ...args], log);
  }

  /**
   * `latchkey pair` or `latchkey ble pair` (`args`) in the background until it shows its code;
   * `exited` resolves with its exit code once the phone used it. Its output is in `log`.
   */
  async showPairingCode(args: string[], log: string): Promise<{ code: string; exited: Promise<number | null> }> {
    const shown = this.startLatchkey(args, log);
    const exited = new Promise<number | null>((resolve) => shown.once('exit', resolve));
    const code = await waitFor('the pairing code', () => PAIRING_CODE.exec(this.wine.readText(log))?.[1], 90_000);
    return { code, exited };
  }

  /** cp-harness.exe `mode` with `steps`, to its end: every step it printed. */
  harness(mode: 'logon' | 'unlock', ...steps: string[]): HarnessStep[] {
    const run = this.wine.run([join(this.build, 'cp-harness.exe'), mode, ...steps]);
    return (JSON.parse(run.stdout) as { steps: HarnessStep[] }).steps;
  }

  /** cp-harness.exe in the background, its JSON in `log` when it ends. */
  startHarness(mode: 'logon' | 'unlock', steps: string[], log: string): ChildProcess {
    return this.wine.start([join(this.build, 'cp-harness.exe'), mode, ...steps], log);
  }

  /** harness() without blocking this process's event loop (for peers whose output this process reads). */
  async harnessAsync(mode: 'logon' | 'unlock', ...steps: string[]): Promise<HarnessStep[]> {
    const log = join(this.wine.dir, `harness-${process.pid}-${Date.now()}.json`);
    const child = this.startHarness(mode, steps, log);
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    const output = this.wine.readText(log);
    rmSync(log, { force: true });
    if (code !== 0) throw new Error(`cp-harness.exe exited ${code}: ${output}`);
    return (JSON.parse(output) as { steps: HarnessStep[] }).steps;
  }

  async startService(): Promise<void> {
    const before = this.wine.readText(this.serviceLog).split('agent.ready').length;
    this.wine.sc(['start', 'LatchkeyAgent']);
    await waitFor(
      'the agent on its pipe',
      () => this.wine.readText(this.serviceLog).split('agent.ready').length > before,
      90_000,
    );
  }

  destroy(): Promise<void> {
    return this.wine.destroy();
  }
}
