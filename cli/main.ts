/** The `latchkey` command (docs/cli.md). Each subcommand lives in cli/commands/. */
import { readFileSync } from 'node:fs';
import type { Command as CommandType } from 'commander';
import { requireCjs } from '../platform/load-cjs.js';
import { registerAdmin } from './commands/admin.js';
import { registerAgent } from './commands/agent.js';
import { registerBle } from './commands/ble/index.js';
import { registerControlCenter } from './commands/control-center.js';
import { registerDemo } from './commands/demo.js';
import { registerDoctor } from './commands/doctor.js';
import { registerEnroll } from './commands/enroll.js';
import { registerOnline } from './commands/online.js';
import { registerPhone } from './commands/phone.js';
import { registerPins } from './commands/pins.js';
import { registerReset } from './commands/reset.js';
import { registerStatus } from './commands/status.js';
import { registerVerify } from './commands/verify.js';
import { CliError, EXIT } from '../platform/exit-codes.js';
import { describeFileError, isSystemCallError, oneLine } from '../platform/file-errors.js';

const { Command, CommanderError } = requireCjs('commander') as typeof import('commander');

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string })
      .version;
  } catch {
    return 'unknown';
  }
}

function commandPath(command: CommandType): string {
  const names: string[] = [];
  for (let at: CommandType | null = command; at; at = at.parent) names.unshift(at.name());
  return names.join(' ');
}

/** Commander's "error: option '--x <n>' argument 'y' is invalid. WHY" as "WHY (got 'y'); see latchkey … --help". */
export function usageLine(text: string, command: string): string {
  const message = oneLine(text.replace(/^error:\s*/, ''));
  const option = /^option '.+?' argument '(.*)' is invalid\. (.+)$/.exec(message);
  const argument = /^command-argument value '(.*)' is invalid for argument '.+?'\. (.+)$/.exec(message);
  const invalid = option ?? argument;
  const why = invalid ? `${invalid[2]} (got '${invalid[1]}')` : message;
  return `${why.replace(/\.$/, '')}; see ${command} --help`;
}

export function buildProgram(): CommandType {
  const program = new Command('latchkey')
    .description(
      'Latchkey: unlock this computer with your phone — online, with one-time offline PINs, or over Bluetooth.',
    )
    .version(version())
    .exitOverride();
  for (const register of [
    registerAgent,
    registerEnroll,
    registerVerify,
    registerStatus,
    registerReset,
    registerPins,
    registerDemo,
    registerOnline,
    registerPhone,
    registerBle,
    registerControlCenter,
    registerAdmin,
    registerDoctor,
  ])
    register(program);
  // Usage errors everywhere (subcommands of subcommands too) exit 64, not commander's 1, and
  // print as one `latchkey:` line naming the command's --help (docs/cli.md).
  const override = (command: CommandType): void => {
    command.exitOverride();
    command.configureOutput({
      outputError: (text, write) => write(`latchkey: ${usageLine(text, commandPath(command))}\n`),
    });
    command.commands.forEach(override);
  };
  override(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    } else if (error instanceof CliError) {
      process.stderr.write(`latchkey: ${oneLine(error.message)}\n`);
      process.exitCode = error.exitCode;
    } else {
      // A file-system error no command translated still names its path in words, not as ENOTDIR.
      const text =
        isSystemCallError(error) && error.path ? describeFileError(error) : ((error as Error).message ?? String(error));
      process.stderr.write(`latchkey: ${oneLine(text)}\n`);
      process.exitCode = EXIT.failure;
    }
  }
}
