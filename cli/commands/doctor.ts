/**
 * `latchkey doctor`: everything a lock screen needs for one user, each line ✓ or ✗ with its fix,
 * and exit 0 only when a PIN prompt would appear (docs/cli.md "doctor").
 */
import { userInfo } from 'node:os';
import { runsAsAdministrator } from '../../platform/users.js';
import type { Command } from 'commander';
import { EXIT } from '../../platform/exit-codes.js';
import { absolutePathOption, integerOption, userOption } from '../options.js';
import { MAX_SOCKET_PATH_BYTES } from '../../agent/config.js';
import type { Check, Diagnosis } from '../doctor/checks.js';

interface Options {
  user?: string;
  json?: boolean;
  socket?: string;
  timeout: number;
  pamDir: string;
  pamModuleDir?: string;
  syslogSocket: string;
}

const MARK: Record<Check['status'], string> = { ok: '✓', problem: '✗', info: '•' };

/** Whose lock screen: --user, else the one who ran sudo, else oneself. */
function defaultUser(): string {
  const sudoUser = process.env.SUDO_USER;
  return runsAsAdministrator() && sudoUser && sudoUser !== 'root' ? sudoUser : userInfo().username;
}

export function renderDiagnosis(diagnosis: Diagnosis): string {
  const lines = [`Latchkey doctor: what ${diagnosis.user}'s lock screen needs`];
  for (const check of diagnosis.checks) {
    lines.push(`${MARK[check.status]} ${check.text}`);
    if (check.fix) lines.push(`    fix: ${check.fix}`);
  }
  const first = diagnosis.checks.find((check) => check.status === 'problem' && check.blocking);
  lines.push(
    '',
    diagnosis.pinPrompt
      ? `A PIN prompt appears for ${diagnosis.user} at: ${diagnosis.promptAt.join(', ')}.`
      : `No PIN prompt for ${diagnosis.user}${first ? `: ${first.text}` : ''}.`,
  );
  return `${lines.join('\n')}\n`;
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description(
      'check everything a lock screen needs for a user: agent, PAM module and stacks, policy, PINs, Control Center, keystore, Bluetooth',
    )
    .option('--user <name>', 'whose lock screen (default: the user who ran sudo, else yourself)', userOption)
    .option('--json', 'print the checks as JSON')
    .option(
      '--socket <path>',
      "the agent's socket (default: the one the PAM stack lines name, else /run/latchkey/agent.sock)",
      absolutePathOption('--socket', MAX_SOCKET_PATH_BYTES),
    )
    .option('--timeout <ms>', 'give up on the agent after this long', integerOption('--timeout', 100, 600_000), 5000)
    .option(
      '--pam-dir <dir>',
      'the PAM configuration to read (for tests and chroots)',
      absolutePathOption('--pam-dir'),
      '/etc/pam.d',
    )
    .option(
      '--pam-module-dir <dir>',
      'where libpam loads modules from (for tests and chroots; default: where pam_unix.so is)',
      absolutePathOption('--pam-module-dir'),
    )
    .option(
      '--syslog-socket <path>',
      'the syslog socket the PAM module writes to (for tests and chroots)',
      absolutePathOption('--syslog-socket'),
      '/dev/log',
    )
    .addHelpText(
      'after',
      '\nExit status: 0 a PIN prompt would appear for the user, 1 it would not (a ✗ line says why), 64 usage error.',
    )
    .action(async (options: Options) => {
      const { gather } = await import('../doctor/gather.js');
      const { diagnose } = await import('../doctor/checks.js');
      const findings = await gather({
        user: options.user ?? defaultUser(),
        socket: options.socket,
        timeoutMs: options.timeout,
        pamDirectory: options.pamDir,
        moduleDirectory: options.pamModuleDir,
        syslogSocket: options.syslogSocket,
      });
      const diagnosis = diagnose(findings);
      process.stdout.write(options.json ? `${JSON.stringify(diagnosis, null, 2)}\n` : renderDiagnosis(diagnosis));
      process.exitCode = diagnosis.pinPrompt ? EXIT.ok : EXIT.failure;
    });
}
