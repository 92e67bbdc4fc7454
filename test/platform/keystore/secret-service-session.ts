/**
 * A private, real Secret Service for the OS-keychain tests: a dbus-daemon with its own config
 * and a gnome-keyring-daemon (secrets component) under a temporary HOME. The bus has no
 * service directories, so nothing is D-Bus-activated behind the test's back: no second keyring
 * daemon, and no prompter for a locked keyring (as at a login screen or in a headless session).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const LOGIN_COLLECTION = '/org/freedesktop/secrets/collection/login';
const KEYRING_PASSWORD = 'latchkey-test-keyring-password';

export class SecretServiceSession {
  readonly address: string;
  readonly #busPid: number;
  readonly #root: string;
  readonly #env: NodeJS.ProcessEnv;
  #keyring: ChildProcess | undefined;
  #busStopped = false;

  private constructor(root: string, address: string, busPid: number) {
    this.#root = root;
    this.address = address;
    this.#busPid = busPid;
    const home = path.join(root, 'home');
    mkdirSync(home, { mode: 0o700 });
    this.#env = {
      PATH: process.env.PATH,
      HOME: home,
      XDG_RUNTIME_DIR: home,
      XDG_DATA_HOME: path.join(home, 'data'),
      XDG_CONFIG_HOME: path.join(home, 'config'),
      XDG_CACHE_HOME: path.join(home, 'cache'),
      DBUS_SESSION_BUS_ADDRESS: address,
    };
  }

  /** Starts a session bus with no Secret Service on it yet. */
  static start(): SecretServiceSession {
    const root = mkdtempSync(path.join(tmpdir(), 'latchkey-secret-service-'));
    const config = path.join(root, 'session-bus.conf');
    writeFileSync(
      config,
      `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=${root}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy>
</busconfig>
`,
    );
    const output = execFileSync(
      'dbus-daemon',
      [`--config-file=${config}`, '--fork', '--print-address=1', '--print-pid=1'],
      { encoding: 'utf8' },
    );
    const [address, pid] = output.trim().split('\n');
    if (!address?.startsWith('unix:') || !pid) throw new Error(`dbus-daemon printed ${JSON.stringify(output)}`);
    return new SecretServiceSession(root, address, Number(pid));
  }

  /**
   * Starts gnome-keyring-daemon. `unlock: true` feeds the password on stdin (creating the login
   * keyring on first start); `unlock: false` leaves an existing login keyring locked, and
   * creates none.
   */
  async startKeyring(options: { unlock: boolean; emptyKeyringDirectory?: boolean }): Promise<void> {
    if (this.#keyring) throw new Error('gnome-keyring-daemon is already running');
    const args = ['--foreground', ...(options.unlock ? ['--unlock'] : []), '--components=secrets'];
    // A data directory with no keyrings in it: a daemon that was never unlocked has no login keyring.
    const env = options.emptyKeyringDirectory
      ? { ...this.#env, XDG_DATA_HOME: mkdtempSync(path.join(this.#root, 'empty-data-')) }
      : this.#env;
    const child = spawn('gnome-keyring-daemon', args, { env, stdio: ['pipe', 'ignore', 'ignore'] });
    this.#keyring = child;
    child.stdin?.end(options.unlock ? KEYRING_PASSWORD : '');
    await waitFor(
      () => this.#nameHasOwner('org.freedesktop.secrets'),
      'gnome-keyring-daemon to own org.freedesktop.secrets',
    );
  }

  async stopKeyring(): Promise<void> {
    const child = this.#keyring;
    this.#keyring = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
    // The bus drops the name when it sees the socket close, a moment after the exit: wait, so
    // the next startKeyring does not mistake the old owner for the new daemon.
    await waitFor(() => !this.#nameHasOwner('org.freedesktop.secrets'), 'the bus to release org.freedesktop.secrets');
  }

  /** Locks every collection (org.freedesktop.Secret.Service.Lock), as a screen locker would. */
  lockLoginKeyring(): void {
    this.#dbusSend(
      '/org/freedesktop/secrets',
      'org.freedesktop.Secret.Service.Lock',
      `array:objpath:${LOGIN_COLLECTION}`,
    );
  }

  /** The login collection's Locked property, or null when there is no login collection. */
  loginKeyringLocked(): boolean | null {
    let reply: string;
    try {
      reply = this.#dbusSend(
        LOGIN_COLLECTION,
        'org.freedesktop.DBus.Properties.Get',
        'string:org.freedesktop.Secret.Collection',
        'string:Locked',
      );
    } catch {
      return null;
    }
    if (/boolean true/.test(reply)) return true;
    if (/boolean false/.test(reply)) return false;
    throw new Error(`unexpected reply to Get(Locked): ${reply}`);
  }

  /** Stops the keyring daemon and the bus, waiting until the bus process is gone. */
  async stopBus(): Promise<void> {
    await this.stopKeyring();
    if (this.#busStopped) return; // never signal a pid that may have been reused since
    this.#busStopped = true;
    try {
      process.kill(this.#busPid, 'SIGTERM');
    } catch {
      return; // already gone
    }
    await waitFor(() => !processExists(this.#busPid), `dbus-daemon ${this.#busPid} to exit`);
  }

  async close(): Promise<void> {
    await this.stopBus();
    rmSync(this.#root, { recursive: true, force: true });
  }

  #nameHasOwner(name: string): boolean {
    const reply = execFileSync(
      'dbus-send',
      [
        '--session',
        '--print-reply=literal',
        '--dest=org.freedesktop.DBus',
        '/org/freedesktop/DBus',
        'org.freedesktop.DBus.NameHasOwner',
        `string:${name}`,
      ],
      { env: this.#env, encoding: 'utf8' },
    );
    return reply.includes('true');
  }

  #dbusSend(objectPath: string, method: string, ...args: string[]): string {
    return execFileSync(
      'dbus-send',
      ['--session', '--print-reply', '--dest=org.freedesktop.secrets', objectPath, method, ...args],
      {
        env: this.#env,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
  }
}

/** False once the process has exited (a zombie not yet reaped by init counts as exited). */
function processExists(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
