/**
 * Real Windows programs under wine for the tests of docs/windows.md §10: a temporary WINEPREFIX
 * per test file (reporting Windows 10), the Windows parts built with mingw-w64 into the test's own
 * directory, node.exe from the npm registry, and every process started here stopped by its pid
 * (then `wineserver -k` for the prefix). node.exe writes to files: under wine it crashes on Linux pipes.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..', '..');
export const PROVIDER_CLSID = '{E78D8514-2B6B-4F08-876B-C0FB28857736}';
const NODE_RUNTIME_DIR = join(ROOT, 'build', 'windows', 'node');
/** What wine's loader prints when it could not start a program at all (so nothing of it ran). */
const WINE_LAUNCH_FAILURE = /^Application could not be started|ShellExecuteEx failed/m;

/** Z:\… for a Linux path (wine maps / to Z:). */
export function windowsPath(linux: string): string {
  return `Z:${linux.replaceAll('/', '\\')}`;
}

/** Builds native/windows into `out` (its own directory: test files build at the same time). */
export function buildWindowsParts(out: string): void {
  execFileSync(process.execPath, [join(ROOT, 'native', 'windows', 'build-windows.mjs'), '--out', out], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** node.exe of installer/msi/node-win-runtime.mjs (fetched and checked once, then shared). */
export function nodeExe(): string {
  return execFileSync(process.execPath, [join(ROOT, 'installer', 'msi', 'node-win-runtime.mjs'), NODE_RUNTIME_DIR], {
    encoding: 'utf8',
  }).trim();
}

/** Compiles a test fixture with mingw-w64. */
export function mingw(output: string, sources: string[], flags: string[] = []): string {
  execFileSync(
    'x86_64-w64-mingw32-gcc',
    ['-std=gnu11', '-O2', '-Wall', '-Wextra', '-Werror', '-Wno-cast-function-type', '-o', output, ...sources, ...flags],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  return output;
}

export async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export class WinePrefix {
  readonly dir: string;
  readonly prefix: string;
  readonly env: NodeJS.ProcessEnv;
  readonly #children = new Set<ChildProcess>();
  #runs = 0;

  private constructor(dir: string) {
    this.dir = dir;
    this.prefix = join(dir, 'prefix');
    this.env = {
      ...process.env,
      WINEPREFIX: this.prefix,
      WINEDEBUG: '-all',
      WINEDLLOVERRIDES: 'mscoree,mshtml=',
      DISPLAY: '',
    };
  }

  /**
   * A fresh prefix reporting Windows 10 (node.exe refuses the Windows 7 a new prefix reports), with
   * test/windows/c/keep-prefix.c running so that its services live as they would on Windows.
   */
  static create(): WinePrefix {
    const wine = new WinePrefix(mkdtempSync('/tmp/latchkey-wine-'));
    try {
      wine.check(spawnSync('wineboot', ['-i'], { env: wine.env, stdio: 'ignore', timeout: 180_000 }), 'wineboot -i');
      // the services wineboot left running cannot start new ones: let that wineserver end first
      spawnSync('wineserver', ['-w'], { env: wine.env, stdio: 'ignore', timeout: 60_000 });
      wine.reg(['add', 'HKCU\\Software\\Wine', '/v', 'Version', '/d', 'win10', '/f']);
      const keeper = mingw(join(wine.dir, 'keep-prefix.exe'), [join(ROOT, 'test', 'windows', 'c', 'keep-prefix.c')]);
      wine.start([keeper], join(wine.dir, 'keep-prefix.log'));
      return wine;
    } catch (error) {
      // nothing of ours runs yet but what wineboot left: end the prefix's wineserver, remove the prefix
      spawnSync('wineserver', ['-k'], { env: wine.env, stdio: 'ignore', timeout: 30_000 });
      rmSync(wine.dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** C:\… inside the prefix, as a Linux path. */
  driveC(...parts: string[]): string {
    return join(this.prefix, 'drive_c', ...parts);
  }

  private check(run: SpawnSyncReturns<string | Buffer>, what: string): void {
    if (run.error) throw new Error(`${what}: ${run.error.message}`);
    if (run.status !== 0)
      throw new Error(
        `${what} exited ${run.status ?? run.signal}: ${String(run.stderr ?? '')}${String(run.stdout ?? '')}`,
      );
  }

  /**
   * Runs a Windows program to its end; its output comes back as text. Output goes through files,
   * not pipes: a service this starts (sc start) would hold a pipe open long after the command ends.
   */
  run(
    args: string[],
    options: { timeout?: number; allowFailure?: boolean; stdinFile?: string } = {},
  ): { status: number | null; stdout: string; stderr: string } {
    // Wine now and then fails to launch a program at all (its loader says so, and nothing ran):
    // only then is the run tried again, at most twice.
    for (let attempt = 1; ; attempt++) {
      const result = this.#runOnce(args, options);
      if (attempt === 3 || result.status === 0 || !WINE_LAUNCH_FAILURE.test(result.stderr)) {
        if (!options.allowFailure) this.check(result, `wine ${args.join(' ')}`);
        return { status: result.status, stdout: result.stdout, stderr: result.stderr };
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500 * attempt);
    }
  }

  #runOnce(
    args: string[],
    options: { timeout?: number; stdinFile?: string },
  ): Omit<SpawnSyncReturns<Buffer>, 'stdout' | 'stderr'> & { stdout: string; stderr: string } {
    const out = join(this.dir, `run-${process.pid}-${++this.#runs}`);
    const [stdout, stderr] = [openSync(`${out}.out`, 'w'), openSync(`${out}.err`, 'w')];
    // standard input from a file too: node.exe under wine cannot use a Linux pipe
    const stdin = options.stdinFile === undefined ? 'ignore' : openSync(options.stdinFile, 'r');
    const run = spawnSync('wine', args, {
      env: this.env,
      stdio: [stdin, stdout, stderr],
      timeout: options.timeout ?? 120_000,
    });
    if (typeof stdin === 'number') closeSync(stdin);
    closeSync(stdout);
    closeSync(stderr);
    const result = { ...run, stdout: readFileSync(`${out}.out`, 'utf8'), stderr: readFileSync(`${out}.err`, 'utf8') };
    rmSync(`${out}.out`);
    rmSync(`${out}.err`);
    return result;
  }

  reg(args: string[]): string {
    return this.run(['reg', ...args]).stdout;
  }

  /** `sc` as wine ships it; returns its output. */
  sc(args: string[], allowFailure = false): string {
    return this.run(['sc', ...args], { allowFailure }).stdout;
  }

  /**
   * Creates the service LatchkeyAgent (demand start) as the MSI installs it: the service wrapper
   * `wrapper` (latchkey-service.exe) with its log in `log`, running `program`.
   */
  createAgentService(wrapper: string, log: string, program: string[]): void {
    this.sc(['delete', 'LatchkeyAgent'], true);
    this.sc([
      'create',
      'LatchkeyAgent',
      'binPath=',
      [windowsPath(wrapper), '--log', windowsPath(log), '--', ...program].join(' '),
      'start=',
      'demand',
    ]);
  }

  /** The STATE line of `sc query NAME` (RUNNING, STOPPED, …), or undefined when there is no such service. */
  serviceState(name: string): string | undefined {
    return /STATE\s*:\s*\d+\s+(\w+)/.exec(this.sc(['query', name], true))?.[1];
  }

  /** Starts a long-running Windows program with its output in `logFile`; stopped by pid in destroy(). */
  start(args: string[], logFile: string): ChildProcess {
    const fd = openSync(logFile, 'a');
    const child = spawn('wine', args, { env: this.env, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    this.#children.add(child);
    child.once('exit', () => this.#children.delete(child));
    return child;
  }

  async stop(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }

  /** The account SID processes run as in this prefix (every process is the same user under wine). */
  sid(harness: string): string {
    return (JSON.parse(this.run([harness, 'whoami']).stdout) as { sid: string }).sid;
  }

  /** Registers the provider DLL under its CLSID as the MSI does (docs/windows.md §4.1), for CoCreateInstance. */
  registerProvider(dll: string): void {
    const clsid = `HKCR\\CLSID\\${PROVIDER_CLSID}`;
    this.reg(['add', clsid, '/ve', '/d', 'Latchkey', '/f']);
    this.reg(['add', `${clsid}\\InprocServer32`, '/ve', '/d', windowsPath(dll), '/f']);
    this.reg(['add', `${clsid}\\InprocServer32`, '/v', 'ThreadingModel', '/d', 'Apartment', '/f']);
  }

  /** Installs the stand-in Negotiate LSA package (test/windows/c/negotiate-stand-in.c) into the prefix. */
  addNegotiatePackage(): void {
    mingw(
      this.driveC('windows', 'system32', 'lknego.dll'),
      [join(ROOT, 'test', 'windows', 'c', 'negotiate-stand-in.c')],
      ['-shared'],
    );
    this.reg(['add', 'HKLM\\System\\CurrentControlSet\\Control\\Lsa\\lknego', '/f']);
  }

  /** Stops what this prefix still runs (our children by pid, then the prefix's wineserver) and removes it. */
  async destroy(): Promise<void> {
    for (const child of [...this.#children]) await this.stop(child);
    spawnSync('wineserver', ['-k'], { env: this.env, stdio: 'ignore', timeout: 30_000 });
    spawnSync('wineserver', ['-w'], { env: this.env, stdio: 'ignore', timeout: 30_000 });
    rmSync(this.dir, { recursive: true, force: true });
  }

  readText(file: string): string {
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  }
}
