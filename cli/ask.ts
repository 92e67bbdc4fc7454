/** Runs one admin/user request and turns every refusal into a CliError with the agent's sentence. */
import { wipe } from '../protocol/bytes.js';
import type { Reply } from '../protocol/ipc-messages.js';
import { AgentClientError, askAgent, type RequestWithoutId } from './agent-client.js';
import { userInfo } from 'node:os';
import { CliError, EXIT } from '../platform/exit-codes.js';
import { readRequiredSecret } from '../platform/read-secret.js';
import { currentAccount, lookupUserByName, runsAsAdministrator } from '../platform/users.js';

export async function askOk(socket: string, request: RequestWithoutId, timeoutMs: number): Promise<Reply> {
  let reply: Reply;
  try {
    reply = await askAgent(socket, request, timeoutMs);
  } catch (error) {
    if (error instanceof AgentClientError) throw new CliError(error.message, EXIT.unavailable);
    throw error;
  }
  if (reply.status !== 'ok') {
    throw new CliError(
      `${reply.message ?? 'the agent refused the request'} (${reply.status}${reply.reason ? `: ${reply.reason}` : ''})`,
      reply.status === 'unavailable' ? EXIT.unavailable : EXIT.failure,
    );
  }
  return reply;
}

/**
 * The user's own password when someone other than root acts for their own account (the agent
 * checks it before making a credential: docs/security.md); root needs none. The caller wipes it.
 */
export async function ownPasswordFor(user: string): Promise<Uint8Array | undefined> {
  if (runsAsAdministrator() || !isOwnAccount(user)) return undefined;
  return readRequiredSecret(`Password for ${user}: `, 'password', 'run it on a terminal, or pipe your password in');
}

/**
 * Whether `user` names this process's own account: its login name, or on Windows any spelling
 * of it (`DOMAIN\name`, `.\name`, a SID) that resolves to this process's account.
 */
function isOwnAccount(user: string): boolean {
  if (user === userInfo().username) return true;
  try {
    return lookupUserByName(user)?.uid === currentAccount();
  } catch {
    return false; // the agent says why: no such user, or the directory out of reach
  }
}

/**
 * The user's Windows password for an enrollment by an administrator (`--windows-password`): the
 * agent checks it and keeps it only wrapped for the new PINs (docs/windows.md §6.1). The caller wipes it.
 */
export async function windowsPasswordFor(user: string): Promise<Uint8Array> {
  return readRequiredSecret(
    `Windows password for ${user}: `,
    'password',
    'run it on a terminal, or pipe the password in',
  );
}

/**
 * The second half of pairing a phone (online or over Bluetooth): shows the code the agent made
 * (then wipes it), and waits until the phone has used it or the wait runs out.
 */
export async function showCodeThenFinish(
  started: Reply,
  request: { socket: string; user: string; wait: number },
  shown: { label: string; finish: 'pair-finish' | 'ble-pair-finish' },
): Promise<void> {
  const code = Buffer.from(started.secret ?? []).toString('utf8');
  wipe(started.secret);
  const { pairingId } = parseDetail<{ pairingId: string }>(started);
  process.stdout.write(`${shown.label} for ${request.user}:\n\n    ${code}\n\n${started.message}\n`);
  const waitMs = request.wait * 1000;
  const finished = await askOk(
    request.socket,
    { op: shown.finish, user: request.user, pairingId, wait: waitMs },
    waitMs + 10_000,
  );
  process.stdout.write(`${finished.message}\n`);
}

export function parseDetail<T>(reply: Reply): T {
  try {
    return JSON.parse(reply.detail ?? 'null') as T;
  } catch {
    throw new CliError('the agent sent a detail this client cannot read');
  }
}
