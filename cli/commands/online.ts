/** Workstation-side commands of the online flows (docs/online-protocol.md): enroll, pair, sign in. */
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { wipe } from '../../protocol/bytes.js';
import { AgentClientError, askAgent } from '../agent-client.js';
import { askOk, ownPasswordFor, showCodeThenFinish } from '../ask.js';
import { CliError, EXIT } from '../../platform/exit-codes.js';
import { integerOption, urlOption, withAgentOptions, userCommand, pairingCommand } from '../options.js';
import { readRequiredSecret } from '../../platform/read-secret.js';
import type { Reply } from '../../protocol/ipc-messages.js';

/** The URL as given (the agent keeps it), once it is an http(s) URL. */
function checkedUrl(value: string): string {
  urlOption(value);
  return value;
}

export function registerOnline(program: Command): void {
  const workstation = program.command('workstation').description('this workstation and its Control Center');
  const enroll = workstation
    .command('enroll')
    .description(
      'enroll this workstation with a Control Center (root); the install token is read from stdin unless given',
    )
    .requiredOption('--url <url>', 'the Control Center, e.g. https://latchkey.example.com', checkedUrl)
    .option(
      '--install-token <token>',
      'the install token from the Control Center (visible in the process list; prefer stdin)',
    )
    .option('--name <name>', 'how the Control Center shows this workstation', hostname());
  withAgentOptions(enroll, 30_000).action(
    async (options: { url: string; installToken?: string; name: string; socket: string; timeout: number }) => {
      const token =
        options.installToken !== undefined
          ? new TextEncoder().encode(options.installToken)
          : await readRequiredSecret(
              'Install token: ',
              'install token',
              'pipe it in (echo TOKEN | latchkey workstation enroll …), or pass --install-token',
            );
      try {
        const reply = await askOk(
          options.socket,
          { op: 'workstation-enroll', url: options.url, token, name: options.name },
          options.timeout,
        );
        process.stdout.write(`${reply.message}\n`);
      } finally {
        wipe(token);
      }
    },
  );

  const pair = pairingCommand(
    program,
    'pair',
    "show a code to pair a user's phone with this workstation, and wait until the phone has used it",
  );
  pair.addHelpText(
    'after',
    '\nRoot may pair a phone for any user. Any other user may pair only their own phone, is asked for\ntheir password (read from stdin when it is not a terminal), and only while the Workstation Settings\nallow it (selfPairing). Every pairing is audited.',
  );
  withAgentOptions(pair).action(async (options: { user: string; wait: number; socket: string; timeout: number }) => {
    const password = await ownPasswordFor(options.user);
    let started: Reply;
    try {
      started = await askOk(
        options.socket,
        { op: 'pair', user: options.user, ...(password ? { password } : {}) },
        options.timeout,
      );
    } finally {
      wipe(password);
    }
    await showCodeThenFinish(started, options, { label: 'Pairing code', finish: 'pair-finish' });
  });

  const signIn = userCommand(
    program,
    'sign-in',
    "ask the user's phone to approve a sign-in now, as the lock screen does (exit 0 approved, 1 denied, 3 unavailable)",
  ).option('--wait <ms>', 'how long the agent waits for the phone', integerOption('--wait', 1000, 120_000), 20_000);
  withAgentOptions(signIn).action(async (options: { user: string; wait: number; socket: string }) => {
    try {
      const reply = await askAgent(
        options.socket,
        { op: 'online-auth', user: options.user, context: 'cli:sign-in', wait: options.wait },
        options.wait + 5_000,
      );
      if (reply.message) process.stdout.write(`${reply.message}\n`);
      process.exitCode =
        reply.status === 'accepted' ? EXIT.ok : reply.status === 'rejected' ? EXIT.rejected : EXIT.unavailable;
    } catch (error) {
      if (error instanceof AgentClientError) throw new CliError(error.message, EXIT.unavailable);
      throw error;
    }
  });
}
