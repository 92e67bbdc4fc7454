/**
 * Pseudo-terminal ports: each controller port gets a pty (made by socat, from Debian) whose
 * slave end a host opens as a UART, so another process — noble or bleno with the 'uart' HCI
 * driver, or anything that speaks H4 — acts as another machine. socat's other end is its
 * stdin/stdout, piped to the controller. If the host closes the pty, socat exits, the port goes
 * quiet (as a machine switched off: no advertising, links time out), and socat is restarted on
 * the same path, so the host can come back.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { VirtualController } from './controller.js';
import { H4Splitter } from './h4-stream.js';

export interface PtyPort {
  readonly name: string;
  /** The device path a host opens (a symlink to /dev/pts/N). */
  readonly path: string;
  close(): Promise<void>;
}

const LINK_WAIT_MS = 5_000;

/** Attaches port `name` of the controller to a new pty whose slave is linked at `path`. */
export async function openPtyPort(controller: VirtualController, name: string, path: string): Promise<PtyPort> {
  const port = controller.port(name);
  if (existsSync(path)) throw new Error(`${path} already exists; pick a fresh path for the pty link`);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  let child: ChildProcess | null = null;
  let closing = false;
  let ready = false;

  const start = (): ChildProcess => {
    const splitter = new H4Splitter();
    // rawer: no line discipline at all on the pty; the host sets its own serial options.
    const proc = spawn('socat', [`PTY,link=${path},rawer,echo=0`, 'STDIO'], { stdio: ['pipe', 'pipe', 'pipe'] });
    proc.stdin!.on('error', () => undefined);
    proc.stdout!.on('data', (chunk: Buffer) => {
      for (const packet of splitter.push(new Uint8Array(chunk))) controller.receive(port, packet);
    });
    proc.stderr!.resume();
    proc.on('exit', () => {
      if (child === proc) child = null;
      // The host's machine is gone: a dead phone must not go on advertising (or holding links).
      if (!closing) controller.hostGone(name);
      // The host closed the pty: offer a fresh one on the same path. A socat that never made
      // its link is not restarted (bad path, no socat): the wait below reports it.
      if (!closing && ready) child = start();
    });
    port.attach((packet) => proc.stdin!.write(packet));
    return proc;
  };

  child = start();
  const deadline = Date.now() + LINK_WAIT_MS;
  while (!existsSync(path)) {
    if (Date.now() > deadline || child === null) {
      closing = true;
      child?.kill('SIGKILL');
      throw new Error(`socat did not create ${path} (is socat installed?)`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  ready = true;

  return {
    name,
    path,
    async close() {
      closing = true;
      port.detach();
      const proc = child;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      });
    },
  };
}
