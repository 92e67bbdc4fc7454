/** Option parsers shared by the subcommands; each names the option it rejects. */
import path from 'node:path';
import type { Command as CommandType } from 'commander';
import { requireCjs } from '../platform/load-cjs.js';
import { DEFAULT_SOCKET } from './agent-client.js';

const { InvalidArgumentError } = requireCjs('commander') as typeof import('commander');

export function integerOption(name: string, min: number, max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}`);
    const number = Number(value);
    if (number < min || number > max) throw new InvalidArgumentError(`${name} must be from ${min} to ${max}`);
    return number;
  };
}

/** A point in time as ISO 8601 (a date, or a date and time), in milliseconds. */
export function timeOption(name: string) {
  return (value: string): number => {
    const ms = Date.parse(value);
    if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(ms))
      throw new InvalidArgumentError(`${name} must be a time such as 2026-12-04 or 2026-12-04T09:30:00Z`);
    return ms;
  };
}

export function userOption(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what this pattern is for
  if (value.length === 0 || Buffer.byteLength(value) > 256 || /[/\u0000-\u001f\u007f]/.test(value)) {
    throw new InvalidArgumentError('a user name is 1–256 bytes without "/" or control characters');
  }
  return value;
}

export function authenticatorOption(value: string): string {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(value))
    throw new InvalidArgumentError('an authenticator name is 1–64 of A–Z a–z 0–9 . _ -');
  return value;
}

const timeoutOption = integerOption('--timeout', 100, 600_000);

/** --socket and --timeout, which every command that talks to the agent takes. */
export function withAgentOptions(
  command: CommandType,
  timeoutMs = 5000,
  timeoutHelp = 'give up after this long',
): CommandType {
  return command
    .option('--socket <path>', "the agent's socket (on Windows, its named pipe)", DEFAULT_SOCKET)
    .option('--timeout <ms>', timeoutHelp, timeoutOption, timeoutMs);
}

/** `PARENT NAME --user <name> …`: a command about one user (a user name that userOption accepts). */
export function userCommand(
  parent: CommandType,
  name: string,
  description: string,
  userHelp = 'the user',
): CommandType {
  return parent.command(name).description(description).requiredOption('--user <name>', userHelp, userOption);
}

/** A command that shows a code to pair a user's phone, then waits (--wait seconds) until the phone has used it. */
export function pairingCommand(parent: CommandType, name: string, description: string): CommandType {
  return userCommand(parent, name, description, 'the user whose phone it is').option(
    '--wait <seconds>',
    'how long to wait for the phone',
    integerOption('--wait', 1, 600),
    600,
  );
}

/** An absolute path of at most `maxBytes` (a socket's is short: sockaddr_un). */
export function absolutePathOption(name: string, maxBytes = 4096) {
  return (value: string): string => {
    if (!path.isAbsolute(value) || value.includes('\0'))
      throw new InvalidArgumentError(`${name} must be an absolute path (starting with /)`);
    if (Buffer.byteLength(value) > maxBytes)
      throw new InvalidArgumentError(`${name} must be at most ${maxBytes} bytes`);
    return value;
  };
}

/** A Control Center's URL: http(s), reduced to its origin. */
export function urlOption(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError("--url must be the Control Center's URL, e.g. https://cc.example.com");
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new InvalidArgumentError('--url must be an http:// or https:// URL');
  return url.origin;
}
