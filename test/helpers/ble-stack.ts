/**
 * Bluetooth as separate real processes for end-to-end tests and benchmarks: a virtual
 * controller on pseudo-terminals (`latchkey ble virtual-controller --commands`), and phones
 * serving over it (`latchkey phone … ble serve`). Everything started here is stopped by its
 * own `stop()`, by the pid it started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { latchkeyCommand } from '../../cli/agent-process.js';
import { eventually, type PhoneCli } from './online-stack.js';
import { startCli, type CliResult } from './run-cli.js';

/** Collects a child's stdout and resolves lines as they come. */
class Lines {
  text = '';
  readonly #waiters: { match: RegExp; resolve: (line: string) => void }[] = [];
  #seen = 0;

  push(chunk: string): void {
    this.text += chunk;
    const lines = this.text.split('\n');
    for (; this.#seen < lines.length - 1; this.#seen++) {
      const line = lines[this.#seen]!;
      const index = this.#waiters.findIndex((w) => w.match.test(line));
      if (index >= 0) this.#waiters.splice(index, 1)[0]!.resolve(line);
    }
  }

  /** The next line (from now on) matching `match`. */
  next(match: RegExp, timeoutMs: number, what: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no line matching ${match} from ${what} within ${timeoutMs} ms:\n${this.text}`)),
        timeoutMs,
      );
      this.#waiters.push({
        match,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
    });
  }
}

function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    child.kill(signal);
  });
}

export class ControllerProcess {
  private constructor(
    readonly child: ChildProcess,
    readonly ports: Readonly<Record<string, string>>,
    private readonly lines: Lines,
    readonly stderr: () => string,
  ) {}

  /** Starts `latchkey ble virtual-controller` with one pty per port under `dir`. */
  static async start(dir: string, ports: readonly string[], extra: readonly string[] = []): Promise<ControllerProcess> {
    const run = latchkeyCommand([
      'ble',
      'virtual-controller',
      '--json',
      '--commands',
      '--dir',
      dir,
      ...ports.flatMap((p) => ['--port', p]),
      ...extra,
    ]);
    const child = spawn(run.command, run.args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const lines = new Lines();
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => lines.push(chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const first = await lines.next(/^\{"ports"/, 20_000, 'the virtual controller');
    return new ControllerProcess(
      child,
      (JSON.parse(first) as { ports: Record<string, string> }).ports,
      lines,
      () => stderr,
    );
  }

  /** Gives a port a fresh random address, as a phone's OS does; resolves with it. */
  async rotate(port: string): Promise<string> {
    const answer = this.lines.next(new RegExp(`^(rotated ${port} |error)`), 5_000, 'the virtual controller');
    this.child.stdin!.write(`rotate ${port}\n`);
    return (await answer).split(' ')[2]!;
  }

  /** What every connection carried so far (cli/commands/ble/virtual-controller.ts). */
  async stats(): Promise<
    {
      id: number;
      attPdus: number;
      roundTrips: number;
      exchangeRoundTrips: number;
      airBytes: number;
      exchangeAirBytes: number;
    }[]
  > {
    const answer = this.lines.next(/^\{"connections"/, 5_000, 'the virtual controller');
    this.child.stdin!.write('stats\n');
    return (JSON.parse(await answer) as { connections: [] }).connections;
  }

  /** Resolves once `port` neither advertises nor holds a link (its host is gone, or quiet). */
  async quiet(port: string, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const answer = this.lines.next(/^\{"state"/, 5_000, 'the virtual controller');
      this.child.stdin!.write('state\n');
      const state = (
        JSON.parse(await answer) as { state: Record<string, { advertising: boolean; connections: number }> }
      ).state[port];
      if (state && !state.advertising && state.connections === 0) return;
      if (Date.now() > deadline) throw new Error(`port ${port} is still busy: ${JSON.stringify(state)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  stop(): Promise<number | null> {
    return stopChild(this.child);
  }
}

/** `latchkey phone --home H --passphrase-file F ble serve --auto-approve --uart PTY`. */
export class BlePhoneProcess {
  private constructor(
    readonly child: ChildProcess,
    private readonly lines: Lines,
  ) {}

  static async start(
    phone: { home: string; passphraseFile: string },
    pty: string,
    extra: readonly string[] = ['--auto-approve'],
  ): Promise<BlePhoneProcess> {
    const run = latchkeyCommand([
      'phone',
      '--home',
      phone.home,
      '--passphrase-file',
      phone.passphraseFile,
      'ble',
      'serve',
      '--uart',
      pty,
      ...extra,
    ]);
    const child = spawn(run.command, run.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines = new Lines();
    child.stdout!.on('data', (chunk: Buffer) => lines.push(chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => lines.push(chunk.toString()));
    await lines.next(/^Serving \d+ Bluetooth pairing/, 20_000, 'the phone');
    return new BlePhoneProcess(child, lines);
  }

  get output(): string {
    return this.lines.text;
  }

  nextSession(timeoutMs = 10_000): Promise<string> {
    return this.lines.next(/^(Unlocked|An unlock|.* refused the unlock)/, timeoutMs, 'the phone');
  }

  stop(): Promise<number | null> {
    return stopChild(this.child);
  }
}

const PAIRING_CODE = /\b([0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4})\b/;

/**
 * Pairs `phone` for `user` over Bluetooth the way a person does: `latchkey ble pair` on the
 * workstation shows the code, `latchkey phone ble pair` on the phone's pty takes it; both exit 0,
 * or this throws. Returns what the phone printed.
 */
export async function pairOverBluetooth(
  socket: string,
  user: string,
  phone: PhoneCli,
  pty: string,
): Promise<CliResult> {
  const shown = startCli(['ble', 'pair', '--user', user, '--wait', '60', '--socket', socket]);
  try {
    const code = await eventually('the Bluetooth pairing code', async () => PAIRING_CODE.exec(shown.output())?.[1]);
    const paired = await phone.run(['ble', 'pair', code, '--uart', pty, '--wait', '30'], { timeoutMs: 60_000 });
    if (paired.code !== 0) throw new Error(`the phone did not pair over Bluetooth: ${paired.stderr}`);
    const exit = await shown.exited;
    if (exit !== 0) throw new Error(`latchkey ble pair exited with ${exit}: ${shown.output()}`);
    return paired;
  } finally {
    shown.stop();
  }
}
