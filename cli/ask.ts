/** Runs one admin/user request and turns every refusal into a CliError with the agent's sentence. */
import type { Reply } from '../protocol/ipc-messages.js';
import { AgentClientError, askAgent, type RequestWithoutId } from './agent-client.js';
import { CliError, EXIT } from '../platform/exit-codes.js';

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

export function parseDetail<T>(reply: Reply): T {
  try {
    return JSON.parse(reply.detail ?? 'null') as T;
  } catch {
    throw new CliError('the agent sent a detail this client cannot read');
  }
}
