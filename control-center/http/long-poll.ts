/**
 * Long-poll (docs/online-protocol.md "Long-poll"): read the state; answer when it is final,
 * when `wait` seconds have passed, at `wakeAt` (an expiry), or when the server stops;
 * otherwise sleep until the event bus says something changed and read again. The waiter
 * subscribes before the first read, so no change is lost in between, and gives up when the
 * client goes away.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Device, Workstation } from '../storage/records.js';
import { authenticateDevice, authenticateWorkstation } from './authenticate.js';
import { readQuery, WaitQuery } from './boundary.js';
import type { CcContext } from './route-context.js';

export interface PollRead<T> {
  readonly value: T;
  /** True when the answer cannot change any more (or the inbox is not empty). */
  readonly final: boolean;
  /** A time (ctx.now) at which the answer changes by itself, such as an expiry. */
  readonly wakeAt?: number;
}

export async function longPoll<T>(
  ctx: CcContext,
  reply: FastifyReply,
  topics: readonly string[],
  waitSeconds: number,
  read: () => Promise<PollRead<T>>,
): Promise<T> {
  const subscription = ctx.bus.subscribe(topics);
  const gone = new AbortController();
  const onClose = () => gone.abort();
  reply.raw.once('close', onClose);
  const deadline = ctx.now() + waitSeconds * 1000;
  try {
    for (;;) {
      const result = await read();
      const now = ctx.now();
      const until = Math.min(deadline, result.wakeAt ?? Number.POSITIVE_INFINITY);
      if (result.final || now >= until || ctx.bus.closed || gone.signal.aborted) return result.value;
      await subscription.next(until - now, gone.signal);
    }
  } finally {
    subscription.close();
    reply.raw.off('close', onClose);
  }
}

const inboxOwners = { device: authenticateDevice, workstation: authenticateWorkstation };
type InboxOwner = { device: Device; workstation: Workstation };

/**
 * `GET /v1/<owner>/inbox`: authenticates the device or workstation, then long-polls its topic
 * (`device:<id>`, `workstation:<id>`) for what `read` finds, a set of lists: the answer is
 * final as soon as one of them holds something.
 */
export function inboxRoute<K extends keyof InboxOwner>(
  app: FastifyInstance,
  ctx: CcContext,
  owner: K,
  read: (caller: InboxOwner[K]) => Promise<Readonly<Record<string, readonly unknown[]>>>,
): void {
  app.get(`/v1/${owner}/inbox`, async (request, reply) => {
    const caller = (await inboxOwners[owner](ctx, request)) as InboxOwner[K];
    const { wait } = readQuery(request, WaitQuery);
    const inbox = await longPoll(ctx, reply, [`${owner}:${caller.id}`], wait, async () => {
      const value = await read(caller);
      return { value, final: Object.values(value).some((list) => list.length > 0) };
    });
    return reply.send(inbox);
  });
}
