/** Runs one admin/user request and turns every refusal into a CliError with the agent's sentence. */
import type { Reply } from '../protocol/ipc-messages.js';
import { AgentClientError, askAgent, type RequestWithoutId } from './agent-client.js';
import { userInfo } from 'node:os';
import { CliError, EXIT } from '../platform/exit-codes.js';
import { readRequiredSecret } from '../platform/read-secret.js';
import { runsAsAdministrator } from '../platform/users.js';

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
  if (runsAsAdministrator() || user !== userInfo().username) return undefined;
  return readRequiredSecret(`Password for ${user}: `, 'password', 'run it on a terminal, or pipe your password in');
}

export function parseDetail<T>(reply: Reply): T {
  try {
    return JSON.parse(reply.detail ?? 'null') as T;
  } catch {
    throw new CliError('the agent sent a detail this client cannot read');
  }
}
