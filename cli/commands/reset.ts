import type { Command } from 'commander';
import { askOk } from '../ask.js';
import { authenticatorOption, withAgentOptions, userCommand } from '../options.js';

export function registerReset(program: Command): void {
  const reset = userCommand(program, 'reset', "admin: clear a user's failed attempts and lockout (root only)").option(
    '--discard-state',
    "set the user's state journal aside (kept as *.corrupt-<time>) when it is unreadable; they must enroll again",
  );
  withAgentOptions(reset).action(
    async (options: { user: string; discardState?: boolean; socket: string; timeout: number }) => {
      const reply = await askOk(
        options.socket,
        { op: 'reset', user: options.user, discardState: options.discardState === true },
        options.timeout,
      );
      process.stdout.write(`${reply.message}\n`);
    },
  );

  const unenroll = userCommand(program, 'unenroll', "remove one authenticator's offline PINs for a user").option(
    '--authenticator <name>',
    'which phone',
    authenticatorOption,
    'phone',
  );
  withAgentOptions(unenroll).action(
    async (options: { user: string; authenticator: string; socket: string; timeout: number }) => {
      const reply = await askOk(
        options.socket,
        { op: 'unenroll', user: options.user, authenticator: options.authenticator },
        options.timeout,
      );
      process.stdout.write(`${reply.message}\n`);
    },
  );
}
