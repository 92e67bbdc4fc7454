import type { Command } from 'commander';
import { wipe } from '../../protocol/bytes.js';
import { AgentClientError, askAgent } from '../agent-client.js';
import { CliError, EXIT } from '../../platform/exit-codes.js';
import { withAgentOptions, userCommand } from '../options.js';
import { readRequiredSecret } from '../../platform/read-secret.js';

const EXIT_BY_STATUS: Record<string, number> = { accepted: EXIT.ok, rejected: EXIT.rejected, locked: EXIT.locked };

export function registerVerify(program: Command): void {
  const command = userCommand(
    program,
    'verify',
    'check an offline PIN as a lock screen would; reads the PIN from stdin (echo off on a terminal)',
    'the user whose PIN it is',
  ).option('--context <text>', 'what is asking, for the audit log', 'cli:verify');
  withAgentOptions(command, 5000, 'give up (exit 3) after this long')
    .addHelpText(
      'after',
      '\nExit status: 0 accepted, 1 rejected, 2 locked (try later), 3 unavailable (use your password), 64 usage error.',
    )
    .action(async (options: { user: string; socket: string; context: string; timeout: number }) => {
      const pin = await readRequiredSecret(
        'Offline PIN: ',
        'PIN',
        'pipe one in (echo PIN | latchkey verify --user NAME), or run it on a terminal',
      );
      if (pin.length === 0 || pin.length > 64) {
        wipe(pin);
        throw new CliError('a PIN is 1–64 characters', EXIT.usage);
      }
      try {
        const reply = await askAgent(
          options.socket,
          { op: 'verify', user: options.user, pin, context: options.context.slice(0, 128) },
          options.timeout,
        );
        if (reply.message) process.stdout.write(`${reply.message}\n`);
        if (reply.status === 'error')
          process.stderr.write(`latchkey: the agent refused the request (${reply.reason ?? 'error'})\n`);
        process.exitCode = EXIT_BY_STATUS[reply.status] ?? EXIT.unavailable;
      } catch (error) {
        if (!(error instanceof AgentClientError)) throw error;
        process.stdout.write('Offline PINs are unavailable right now — use your password.\n');
        process.stderr.write(`latchkey: ${error.message}\n`);
        process.exitCode = EXIT.unavailable;
      } finally {
        wipe(pin);
      }
    });
}
