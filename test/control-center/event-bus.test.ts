// The long-poll wake-ups (control-center/event-bus.ts): a change between a waiter's read and its
// wait is not lost, waiters on other topics sleep on, closing wakes everyone, nothing leaks.
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../control-center/event-bus.js';

const timed = async (promise: Promise<void>) => {
  const started = Date.now();
  await promise;
  return Date.now() - started;
};

describe('EventBus', () => {
  it('remembers a publish that happened after subscribing and before waiting', async () => {
    const bus = new EventBus();
    const subscription = bus.subscribe(['ar_1']);
    bus.publish('ar_1');
    expect(await timed(subscription.next(5_000))).toBeLessThan(100);
    subscription.close();
  });

  it('wakes only waiters on the published topic; the others wait out their time', async () => {
    const bus = new EventBus();
    const mine = bus.subscribe(['device:a']);
    const other = bus.subscribe(['device:b']);
    const woken = timed(mine.next(5_000));
    const sleeping = timed(other.next(150));
    bus.publish('device:a');
    expect(await woken).toBeLessThan(100);
    expect(await sleeping).toBeGreaterThanOrEqual(140);
    mine.close();
    other.close();
    expect(bus.size).toBe(0);
  });

  it('wakes every waiter when it closes, and later waits return at once', async () => {
    const bus = new EventBus();
    const subscription = bus.subscribe(['policy']);
    const waiting = timed(subscription.next(5_000));
    bus.close();
    expect(await waiting).toBeLessThan(100);
    expect(await timed(bus.subscribe(['x']).next(5_000))).toBeLessThan(100);
  });

  it('stops waiting when the client goes away', async () => {
    const bus = new EventBus();
    const subscription = bus.subscribe(['workstation:w']);
    const gone = new AbortController();
    const waiting = timed(subscription.next(5_000, gone.signal));
    gone.abort();
    expect(await waiting).toBeLessThan(100);
    subscription.close();
    expect(bus.size).toBe(0);
  });
});
