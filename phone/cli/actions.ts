/**
 * What each `latchkey phone` command does: open the phone, take one action, print the screen
 * (docs/phone.md "CLI"). Returns the exit code; errors are thrown as PhoneErrors.
 */
import { renderInboxEvent, renderMainScreen, renderOfflinePinScreen, renderTapScreen } from '../core/sentences.js';
import type { InboxEvent } from '../core/screens.js';
import type { WorkstationRef } from '../core/workstation-ref.js';
import { PHONE_EXIT } from './exit-codes.js';
import { initPhone, openPhone, type GlobalOptions } from './open-phone.js';

export type Print = (line: string) => void;
const print: Print = (line) => process.stdout.write(`${line}\n`);

export async function runInit(global: GlobalOptions, name: string | undefined): Promise<number> {
  const made = await initPhone(global, name);
  print(`Phone "${made.name}" set up in ${made.home}.`);
  print(
    'Pair it with a workstation: run "latchkey pair --user USER" there, then "latchkey phone pair CODE --url URL" here.',
  );
  return PHONE_EXIT.ok;
}

export async function runPair(
  global: GlobalOptions,
  code: string,
  url: string,
  name: string | undefined,
): Promise<number> {
  const { phone } = await openPhone(global);
  const pairing = await phone.pair(code, url, name);
  print(`Paired with ${pairing.workstationName} as ${pairing.user} (${pairing.workstationId}).`);
  print('Offline PINs appear after your first online sign-in there.');
  return PHONE_EXIT.ok;
}

export async function runStatus(global: GlobalOptions): Promise<number> {
  const { phone } = await openPhone(global);
  for (const line of renderMainScreen(await phone.mainScreen())) print(line);
  return PHONE_EXIT.ok;
}

export async function runTap(
  global: GlobalOptions,
  ref: WorkstationRef,
  options: { offerOnly?: boolean; poolWait: number },
): Promise<number> {
  const { phone } = await openPhone(global);
  print(`Signing in to ${ref.workstation}…`);
  const screen = await phone.tap(ref, { takeOffer: !options.offerOnly, waitForPoolMs: options.poolWait * 1000 });
  for (const line of renderTapScreen(screen)) print(line);
  if (screen.screen === 'no-offline-pin') return PHONE_EXIT.noOfflinePin;
  if (screen.screen === 'offline-pin-offered') return PHONE_EXIT.offerOnly;
  return PHONE_EXIT.ok;
}

export async function runLongPress(global: GlobalOptions, ref: WorkstationRef): Promise<number> {
  const { phone } = await openPhone(global);
  const screen = await phone.longPress(ref);
  for (const line of renderOfflinePinScreen(screen)) print(line);
  return screen.screen === 'offline-pin' ? PHONE_EXIT.ok : PHONE_EXIT.noOfflinePin;
}

export async function runDecide(
  global: GlobalOptions,
  requestId: string | undefined,
  decision: 'approve' | 'deny',
): Promise<number> {
  const { phone } = await openPhone(global);
  const decided = await phone.decide(requestId, decision);
  print(renderInboxEvent({ event: 'decided', ...decided }));
  return PHONE_EXIT.ok;
}

export async function runUnpair(global: GlobalOptions, ref: WorkstationRef): Promise<number> {
  const { phone } = await openPhone(global);
  const gone = await phone.unpair(ref);
  print(`Forgot ${gone.workstationName} (${gone.user}) and its offline PINs on this phone.`);
  print('An administrator removes the pairing at the Control Center.');
  return PHONE_EXIT.ok;
}

export interface ServeFlags {
  readonly autoApprove?: boolean;
  readonly once?: boolean;
  /** Seconds: the whole run, or the one round with --once. */
  readonly timeout?: number;
}

const PAUSE_WHEN_IDLE_MS = 1000;
const PAUSE_WHEN_UNREACHABLE_MS = 5000;
const MAX_WAIT_S = 25;

/** Long-polls until --once is done, --timeout passes, or SIGINT/SIGTERM. */
export async function runServe(global: GlobalOptions, flags: ServeFlags): Promise<number> {
  const { phone } = await openPhone(global);
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const deadline = flags.timeout === undefined ? Infinity : Date.now() + flags.timeout * 1000;
  const shown = new Set<string>();
  let reachedOnce = false;
  try {
    for (;;) {
      const left = Math.max(0, (deadline - Date.now()) / 1000);
      const events = await phone.serveRound({
        waitSeconds: Math.min(MAX_WAIT_S, left),
        autoApprove: flags.autoApprove ?? false,
        signal: controller.signal,
      });
      const unreachable = events.some((e) => e.event === 'unreachable');
      if (!unreachable) reachedOnce = true;
      const fresh = events.filter((e) => !seenBefore(shown, e));
      for (const event of fresh) print(renderInboxEvent(event));
      if (flags.once || controller.signal.aborted || Date.now() >= deadline) break;
      if (unreachable || fresh.length === 0)
        await pause(unreachable ? PAUSE_WHEN_UNREACHABLE_MS : PAUSE_WHEN_IDLE_MS, deadline, controller.signal);
      if (controller.signal.aborted || Date.now() >= deadline) break;
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  return reachedOnce ? PHONE_EXIT.ok : PHONE_EXIT.unreachable;
}

/** Each thing is printed once: a waiting request, a pool (and its confirmation), a refusal, an outage. */
function seenBefore(shown: Set<string>, event: InboxEvent): boolean {
  const key =
    event.event === 'auth-request'
      ? `request ${event.requestId}`
      : event.event === 'pool-imported'
        ? `pool ${event.deliveryId} ${event.confirmed}`
        : event.event === 'pool-refused'
          ? `refused ${event.deliveryId} ${event.code}`
          : event.event === 'unreachable'
            ? `unreachable ${event.url}`
            : null;
  if (key === null) return false;
  if (shown.has(key)) return true;
  shown.add(key);
  return false;
}

function pause(ms: number, deadline: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, Math.max(0, Math.min(ms, deadline - Date.now())));
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
