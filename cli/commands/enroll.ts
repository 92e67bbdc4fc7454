import { closeSync, constants, existsSync, fsyncSync, openSync, writeSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError, EXIT } from '../../platform/exit-codes.js';
import { describeFileError } from '../../platform/file-errors.js';
import { wipe } from '../../protocol/bytes.js';
import { askOk, parseDetail, ownPasswordFor, windowsPasswordFor } from '../ask.js';
import { authenticatorOption, withAgentOptions, userCommand } from '../options.js';

interface EnrollDetail {
  user: string;
  authenticatorId: string;
  charset: string;
  length: number;
  pinCount: number;
  expiresAt: string;
}

/**
 * The import URI into a new 0600 file, durably. The pool is issued already and the agent keeps
 * no copy, so when the file cannot be written the URI goes to the terminal rather than nowhere.
 */
function writeUriFile(file: string, uri: Uint8Array, uriText: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    writeSync(fd, uri);
    writeSync(fd, '\n');
    fsyncSync(fd);
  } catch (error) {
    process.stdout.write(
      `Import this on the phone now — it is shown once and the agent keeps no copy:\n\n  ${uriText}\n\n`,
    );
    throw new CliError(`--uri-file ${file}: ${describeFileError(error, file)} (the import URI is above instead)`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export function registerEnroll(program: Command): void {
  const command = userCommand(
    program,
    'enroll',
    'issue a pool of offline PINs for a user and print what the phone imports (shown once, never stored)',
    'the OS user the PINs unlock',
  )
    .option(
      '--authenticator <name>',
      'which phone (re-enrolling the same one replaces its PINs)',
      authenticatorOption,
      'phone',
    )
    .option(
      '--windows-password',
      "ask for the user's password even as an administrator: on Windows the agent checks it and keeps it only wrapped, one copy per offline PIN",
    )
    .option('--json', 'print one JSON object (includes the import URI)')
    .option(
      '--uri-file <file>',
      'write the import URI to this new file (mode 0600; never overwritten) instead of the terminal: `latchkey pins --uri-file` reads it',
    );
  withAgentOptions(command, 60_000, 'give up after this long (issuing a pool runs the deliberate KDF once per PIN)')
    .addHelpText(
      'after',
      '\nRoot may enroll any user. Any other user may enroll only themselves and is asked for their password\n(read from stdin when it is not a terminal). On a computer with no Control Center this enrollment stands\nin for the first online sign-in (R2); a workstation enrolled with one refuses it: PINs then come from\nsigning in online with a paired phone.',
    )
    .action(
      async (options: {
        user: string;
        authenticator: string;
        socket: string;
        json?: boolean;
        uriFile?: string;
        timeout: number;
        windowsPassword?: boolean;
      }) => {
        if (options.uriFile !== undefined && existsSync(options.uriFile)) {
          throw new CliError(
            `--uri-file ${options.uriFile} exists: an import URI is never written over another; remove it or name a new file`,
            EXIT.usage,
          );
        }
        const password = options.windowsPassword
          ? await windowsPasswordFor(options.user)
          : await ownPasswordFor(options.user);
        let uri: Uint8Array | undefined;
        try {
          const reply = await askOk(
            options.socket,
            {
              op: 'enroll',
              user: options.user,
              authenticator: options.authenticator,
              ...(password ? { password } : {}),
            },
            options.timeout,
          );
          uri = reply.secret;
          const detail = parseDetail<EnrollDetail>(reply);
          const uriText = Buffer.from(uri ?? []).toString('utf8');
          if (options.uriFile !== undefined) {
            writeUriFile(options.uriFile, uri ?? new Uint8Array(), uriText);
            process.stdout.write(
              `${reply.message}\nThe import URI is in ${options.uriFile} (0600) — the agent keeps no copy; give it to the phone, then delete it.\n`,
            );
            return;
          }
          if (options.json) {
            process.stdout.write(`${JSON.stringify({ ...detail, uri: uriText })}\n`);
            return;
          }
          process.stdout.write(`${reply.message}\n`);
          process.stdout.write(
            `Import this on the phone now — it is shown once and the agent keeps no copy:\n\n  ${uriText}\n\n`,
          );
          if (detail.charset === 'numeric')
            process.stdout.write('Any RFC 4226 HOTP app can import this otpauth:// URI.\n');
        } finally {
          wipe(password, uri);
        }
      },
    );
}
