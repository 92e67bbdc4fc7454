/**
 * A managed workstation in this process: a real agent enrolled with a real Control Center on
 * loopback (test/control-center/helpers.ts), and the reference phone core paired with it the way
 * a person pairs (the code the agent shows, redeemed by the phone, confirmed by the agent).
 */
import path from 'node:path';
import { Phone, newPhoneState } from '../../phone/core/phone.js';
import { MemoryStore, systemClock } from '../../phone/core/ports.js';
import type { Reply } from '../../protocol/ipc-messages.js';
import { installToken, type TestCc, putSettings } from '../control-center/helpers.js';
import { makeTempDir, startInProcessAgent, writeAgentConfig, type InProcessAgent } from './agent-harness.js';
import { eventually } from './online-stack.js';

export interface ManagedAgentOptions {
  /** How the Control Center and the phone show the workstation. */
  readonly name: string;
  /** The tenant's Workstation Settings, set before the agent enrolls. */
  readonly settings?: Record<string, unknown>;
  /** A directory other uids may reach (test/helpers/other-user.ts) for the socket; a private temp dir otherwise. */
  readonly socketDir?: string;
  /** More config keys (docs/configuration.md). */
  readonly config?: Record<string, unknown>;
  readonly agent?: Parameters<typeof startInProcessAgent>[1];
}

/** Starts an agent with an install token for `cc` and waits until it has enrolled. */
export async function startManagedAgent(cc: TestCc, options: ManagedAgentOptions): Promise<InProcessAgent> {
  await putSettings(cc, options.settings ?? { offlineMode: true, pinCount: 10 });
  const socket = options.socketDir === undefined ? undefined : path.join(options.socketDir, 'agent.sock');
  const files = await writeAgentConfig(
    await makeTempDir(),
    {},
    {
      ...options.config,
      ...(socket ? { socket } : {}),
      controlCenter: { url: cc.url, installToken: await installToken(cc), name: options.name },
    },
  );
  const agent = await startInProcessAgent({ ...files, ...(socket ? { socket } : {}) }, options.agent);
  await eventually('the agent to enroll', async () =>
    agent.logLines.join('').includes('workstation.managed') ? true : undefined,
  );
  return agent;
}

export async function newPhoneApp(name: string): Promise<Phone> {
  return Phone.open({
    store: new MemoryStore(await newPhoneState(name, Date.now())),
    clock: systemClock,
    connectivity: { hasNetwork: () => true },
  });
}

/** Root's `pair` for `user`, the code typed on the phone, and the agent's confirmation. */
export async function pairThroughAgentInProcess(
  agent: InProcessAgent,
  user: string,
  phone: Phone,
  ccUrl: string,
): Promise<Reply> {
  const started = await agent.ask({ op: 'pair', user });
  if (started.status !== 'ok') throw new Error(`pair: ${started.reason}: ${started.message}`);
  const finish = agent.ask(
    {
      op: 'pair-finish',
      user,
      pairingId: (JSON.parse(started.detail!) as { pairingId: string }).pairingId,
      wait: 20_000,
    },
    30_000,
  );
  await phone.pair(Buffer.from(started.secret!).toString('utf8'), ccUrl);
  return finish;
}

/** Approves the next sign-in request that reaches the phone. */
export async function approveOnPhone(phone: Phone): Promise<void> {
  const pending = await eventually('the request on the phone', async () => (await phone.pendingRequests())[0], 20_000);
  await phone.decide(pending.request.requestId, 'approve');
}

/** Root's online sign-in for `user`, approved on the phone. */
export async function signInApproving(
  agent: InProcessAgent,
  phone: Phone,
  user: string,
  context = 'test',
): Promise<Reply> {
  const answer = agent.ask({ op: 'online-auth', user, context, wait: 15_000 }, 20_000);
  await approveOnPhone(phone);
  return answer;
}

/** Waits until the agent says `user` has a confirmed (live) pool, serving the phone meanwhile so it imports and confirms. */
export async function poolConfirmed(agent: InProcessAgent, phone: Phone, user: string): Promise<void> {
  await eventually('the pool on the phone and confirmed', async () => {
    await phone.serveRound({ waitSeconds: 1 });
    const detail = JSON.parse((await agent.ask({ op: 'status', user })).detail ?? '{}') as {
      pools?: Array<{ pending?: boolean }>;
    };
    return detail.pools?.some((pool) => !pool.pending) ? true : undefined;
  });
}
