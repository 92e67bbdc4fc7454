/**
 * A private copy of this machine for installing packages: a mount namespace (held open by one
 * `sleep` process, which made the mounts itself right after unshare) where /etc, /usr and /var are overlays whose upper layers live in a temp
 * directory, and /run is a fresh tmpfs. apt, dpkg, pam-auth-update, useradd and the services
 * write only into the upper layers, so nothing another test or engineer reads changes; the
 * upper layers are also an exact record of what the packages changed. Everything inside runs
 * through `nsenter`; its files are readable from here through /proc/HOLDER/root.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { rmSync } from 'node:fs';
import { join } from 'node:path';

export const OVERLAID = ['etc', 'usr', 'var'] as const;

export interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export class Sandbox {
  private constructor(
    readonly work: string,
    private readonly holder: ChildProcess,
  ) {}

  static async create(): Promise<Sandbox> {
    const work = mkdtempSync(`/tmp/latchkey-packages-${process.pid}-`);
    for (const dir of OVERLAID)
      for (const part of ['upper', 'work']) mkdirSync(join(work, 'overlay', dir, part), { recursive: true });
    // The mounts are made by the holder itself, after unshare(2) and before it becomes `sleep`:
    // they can only ever land in its own namespace. (Entering the holder with nsenter to mount
    // would race its unshare and could mount over this machine's own /etc.)
    const mounts = [
      ...OVERLAID.map(
        (dir) =>
          `mount -t overlay overlay -o lowerdir=/${dir},upperdir=${work}/overlay/${dir}/upper,workdir=${work}/overlay/${dir}/work /${dir}`,
      ),
      'mount -t tmpfs -o mode=0755 tmpfs /run',
      'exec sleep 3600',
    ].join(' && ');
    const holder = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', mounts], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let errors = '';
    holder.stderr!.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    const sandbox = new Sandbox(work, holder);
    for (const deadline = Date.now() + 30_000; ; ) {
      if (holder.exitCode !== null || holder.signalCode !== null || Date.now() > deadline) {
        await sandbox.close();
        throw new Error(`cannot set up the sandbox: ${errors}`);
      }
      if (readFileSync(`/proc/${holder.pid}/comm`, 'utf8').trim() === 'sleep') break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    sandbox.assertSeparate();
    return sandbox;
  }

  /** Throws unless the holder's mount namespace is not this process's and this one has none of the sandbox's mounts. */
  assertSeparate(): void {
    if (readlinkSync(`/proc/${this.pid}/ns/mnt`) === readlinkSync('/proc/self/ns/mnt'))
      throw new Error("the sandbox holder is in this machine's own mount namespace");
    if (readFileSync('/proc/self/mountinfo', 'utf8').includes(this.work))
      throw new Error(`this machine's own mounts include ${this.work}: unmount them before anything else`);
  }

  get pid(): number {
    return this.holder.pid!;
  }

  /** A path inside the sandbox, as seen from outside it. */
  path(inside: string): string {
    return `/proc/${this.pid}/root${inside}`;
  }

  run(command: readonly string[], options: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Run {
    this.assertSeparate();
    const run = spawnSync('nsenter', ['--target', String(this.pid), '--mount', '--', ...command], {
      encoding: 'utf8',
      input: options.input,
      env: { ...process.env, ...options.env },
      timeout: options.timeoutMs ?? 180_000,
    });
    return {
      status: run.status,
      stdout: run.stdout ?? '',
      stderr: `${run.stderr ?? ''}${run.error ? String(run.error) : ''}`,
    };
  }

  sh(script: string, options: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Run {
    return this.run(['sh', '-c', script], options);
  }

  /** Like run, but throws with the output unless it exits 0. */
  check(
    command: readonly string[],
    options: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
  ): string {
    const run = this.run(command, options);
    if (run.status !== 0) throw new Error(`${command.join(' ')} exited ${run.status}:\n${run.stdout}${run.stderr}`);
    return run.stdout;
  }

  /** A long-running process inside (nsenter execs it: the returned PID is the process itself). */
  spawn(command: readonly string[], env: NodeJS.ProcessEnv): ChildProcess {
    this.assertSeparate();
    return spawn('nsenter', ['--target', String(this.pid), '--mount', '--', ...command], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  /**
   * What the upper layers hold: every file, link or whiteout (a deletion) under /etc, /usr and
   * /var that differs from this machine, as paths inside the sandbox. Directories only appear
   * when they do not exist on the machine.
   */
  changes(): { path: string; kind: 'file' | 'link' | 'dir' | 'deleted' }[] {
    const out: { path: string; kind: 'file' | 'link' | 'dir' | 'deleted' }[] = [];
    const visit = (upper: string, inside: string) => {
      for (const name of readdirSync(upper)) {
        const full = join(upper, name);
        const path = `${inside}/${name}`;
        const stats = lstatSync(full);
        if (stats.isCharacterDevice() && stats.rdev === 0) out.push({ path, kind: 'deleted' });
        else if (stats.isSymbolicLink()) out.push({ path, kind: 'link' });
        else if (stats.isDirectory()) {
          if (!existsSync(path)) out.push({ path, kind: 'dir' });
          visit(full, path);
        } else out.push({ path, kind: 'file' });
      }
    };
    for (const dir of OVERLAID) visit(join(this.work, 'overlay', dir, 'upper'), `/${dir}`);
    return out;
  }

  upperDir(dir: (typeof OVERLAID)[number]): string {
    return join(this.work, 'overlay', dir, 'upper');
  }

  /** Ends the namespace (its mounts go with its last process) and removes the temp directory. */
  async close(): Promise<void> {
    if (this.holder.exitCode === null && this.holder.signalCode === null) {
      const exited = new Promise((resolve) => this.holder.once('exit', resolve));
      this.holder.kill('SIGKILL');
      await exited;
    }
    // Never delete layers something still has mounted.
    if (readFileSync('/proc/self/mountinfo', 'utf8').includes(this.work))
      throw new Error(`${this.work} is still mounted in this machine's namespace; left in place`);
    rmSync(this.work, { recursive: true, force: true });
  }
}
