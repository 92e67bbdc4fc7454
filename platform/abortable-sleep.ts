/**
 * The one way the agent's background loops wait: a timer that any of `signals` cuts short, and
 * that leaves no listener behind however it ends (a listener per wait, kept until the agent
 * stopped, was a leak in every enrolled agent: issue 10 item 4). The timer never keeps the
 * process alive.
 */
export function abortableSleep(ms: number, ...signals: ReadonlyArray<AbortSignal | undefined>): Promise<void> {
  const live = signals.filter((signal): signal is AbortSignal => signal !== undefined);
  if (live.some((signal) => signal.aborted)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      for (const signal of live) signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    timer.unref();
    for (const signal of live) signal.addEventListener('abort', done, { once: true });
  });
}
