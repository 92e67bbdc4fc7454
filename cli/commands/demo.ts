/**
 * `latchkey demo`: Latchkey's main job end to end on embedded defaults, printed as the people
 * involved would see it. A real agent process on a temporary directory, a real socket, the
 * default Argon2id cost; the phone's part is played by the same derivation the phone uses.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { utf8, wipe } from '../../protocol/bytes.js';
import { parseEnrollmentUri } from '../../protocol/enrollment-uri.js';
import { deriveOfflinePin, formatPinForDisplay } from '../../protocol/offline-pin.js';
import { askAgent } from '../agent-client.js';
import { latchkeyCommand } from '../agent-process.js';
import { askOk } from '../ask.js';
import { CliError } from '../../platform/exit-codes.js';
import { DEFAULT_POLICY } from '../../protocol/policy-settings.js';

const say = (who: string, text: string) => process.stdout.write(`${`[${who}]`.padEnd(14)} ${text}\n`);

async function waitForSocket(socket: string, child: ChildProcess, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new CliError(`the agent exited with status ${child.exitCode} before it was ready`);
    const up = await new Promise<boolean>((resolve) => {
      const probe = net.connect(socket, () => {
        probe.destroy();
        resolve(true);
      });
      probe.on('error', () => resolve(false));
    });
    if (up) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new CliError(`the agent did not open ${socket} within ${timeoutMs} ms`);
}

async function runAgent(
  dir: string,
  policy: Record<string, unknown>,
): Promise<{ socket: string; stop(): Promise<void> }> {
  const config = path.join(dir, 'agent.json');
  const socket = path.join(dir, 'agent.sock');
  await fs.writeFile(
    config,
    `${JSON.stringify({ policy, keystore: { backend: 'file', directory: path.join(dir, 'keystore') }, auditLog: path.join(dir, 'audit.jsonl') }, null, 2)}\n`,
    { mode: 0o600 },
  );
  const run = latchkeyCommand([
    'agent',
    '--config',
    config,
    '--state-dir',
    path.join(dir, 'state'),
    '--socket',
    socket,
    '--log-level',
    'warn',
  ]);
  const child = spawn(run.command, run.args, { stdio: ['ignore', 'inherit', 'inherit'] });
  // However the demo ends — a crash, a closed pipe (`| head`), a signal — its agent ends with it.
  const orphaned = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  process.once('exit', orphaned);
  const stop = () =>
    new Promise<void>((resolve) => {
      process.off('exit', orphaned);
      running.delete(stop);
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  running.add(stop);
  await waitForSocket(socket, child);
  return { socket, stop };
}

/** The demo's agents still running, each by how to stop it. */
const running = new Set<() => Promise<void>>();

/** A signal or a closed stdout (`| head`) stops the demo's agents, removes its directory, and ends it. */
function exitCleanlyOnInterruption(dir: string, keep: boolean): void {
  const leave = (code: number) => {
    void Promise.all([...running].map((stop) => stop())).finally(() => {
      if (!keep) rmSync(dir, { recursive: true, force: true });
      process.exit(code);
    });
  };
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const)
    process.once(signal, () => leave(code));
  process.stdout.on('error', () => leave(141)); // EPIPE: whoever read the output stopped reading
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run Latchkey end to end on a temporary directory and print each step as a person would see it')
    .option('--keep', 'keep the temporary directory (state, audit log) for a look afterwards')
    .action(async (options: { keep?: boolean }) => {
      const dir = await fs.mkdtemp(path.join(tmpdir(), 'latchkey-demo-'));
      exitCleanlyOnInterruption(dir, options.keep === true);
      const user = userInfo().username;
      let agent: Awaited<ReturnType<typeof runAgent>> | null = null;
      let uri: Uint8Array | undefined;
      try {
        process.stdout.write(`Latchkey demo — a real agent on ${dir}, user ${user}, offline PINs end to end.\n\n`);
        agent = await runAgent(dir, {});
        const off = await askAgent(agent.socket, { op: 'status', user }, 5000);
        say(
          'agent',
          `started with embedded defaults: offline mode ${off.offlineMode ? 'on' : 'off'} (R1: off by default)`,
        );
        const refused = await askAgent(
          agent.socket,
          { op: 'verify', user, pin: utf8('ABCD-EFGH'), context: 'demo' },
          5000,
        );
        say('lock screen', `a PIN typed now → "${refused.message}"`);
        await agent.stop();

        say('admin', 'turns Offline Mode on in the config file and restarts the agent');
        agent = await runAgent(dir, { offlineMode: true });
        const enrolled = await askOk(agent.socket, { op: 'enroll', user, authenticator: 'phone' }, 60_000);
        uri = enrolled.secret!;
        say('admin', `latchkey enroll --user ${user} → "${enrolled.message}"`);
        const imported = parseEnrollmentUri(Buffer.from(uri).toString('utf8'));
        say(
          'phone',
          `imports the enrollment URI: ${imported.count} ${imported.format.length}-character PINs (the agent kept only Argon2id verifiers, not the seed)`,
        );

        const pinFor = (counter: number) => {
          const pin = deriveOfflinePin(imported.seed, counter, imported.format);
          const shown = formatPinForDisplay(pin, imported.format.charset);
          wipe(pin);
          return shown;
        };
        const type = async (shown: string, note = '') => {
          const started = performance.now();
          const reply = await askAgent(
            agent!.socket,
            { op: 'verify', user, pin: utf8(shown), context: 'demo' },
            10_000,
          );
          say(
            'lock screen',
            `types ${shown}${note} → ${reply.status}: "${reply.message}" (${Math.round(performance.now() - started)} ms)`,
          );
          return reply;
        };

        say('phone', `shows offline PIN #1: ${pinFor(0)}`);
        await type(pinFor(0));
        await type(pinFor(0), ' again (replay)');
        say('phone', `the user skips ahead: PIN #4 is ${pinFor(3)} (PINs #2–#3 die with it)`);
        await type(pinFor(3));
        await type(pinFor(1), ' (skipped, so dead)');
        await type('0000-0000', ' (a typo)');
        await type('0000-0000', ' (the same typo again: counts once)');
        await type('ZZZZ-ZZZZ');
        await type('1111-1111');
        await type('2222-2222', ' (5th wrong PIN since the last success)');
        await type(pinFor(4), ' (a right PIN, during the delay: not even checked)');
        const reset = await askOk(agent.socket, { op: 'reset', user, discardState: false }, 5000);
        say('admin', `latchkey reset --user ${user} → "${reset.message}"`);
        await type(pinFor(4));

        // Use PINs quietly until the next one crosses the low-PIN warning (R8).
        const warnAt = Math.floor((DEFAULT_POLICY.lowPinWarnPercent * imported.count) / 100);
        let counter = 5;
        while (imported.count - counter - 1 > warnAt) {
          await askAgent(agent.socket, { op: 'verify', user, pin: utf8(pinFor(counter++)), context: 'demo' }, 10_000);
        }
        say('lock screen', `… ${counter - 5} more unlocks later …`);
        while (counter < imported.count) await type(pinFor(counter++));
        await type(pinFor(counter - 1), ' (no PINs left)');

        const audit = (await fs.readFile(path.join(dir, 'audit.jsonl'), 'utf8')).trim().split('\n');
        say('audit', `${audit.length} entries, e.g. ${audit[1]}`);
        process.stdout.write(
          `\nDone. Offline PINs, anti-hammering and the audit log all went through a real agent process.\n`,
        );
      } finally {
        wipe(uri);
        await agent?.stop();
        if (options.keep) process.stdout.write(`Kept ${dir}\n`);
        else await fs.rm(dir, { recursive: true, force: true });
      }
    });
}
