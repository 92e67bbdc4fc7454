/**
 * Every sentence the phone shows a person (PRODUCT.md: short, and say what to do next). The CLI
 * prints these lines; a web app may draw the same screens differently.
 */
import type { NoOfflinePinCode } from './offline-pin-rules.js';
import type { InboxEvent, MainScreen, OfflinePinScreen, TapScreen, Tile } from './screens.js';

export const NO_INTERNET = 'No internet connection — tap a workstation to get an offline PIN.';

export function noOfflinePin(code: NoOfflinePinCode): string {
  switch (code) {
    case 'offline-mode-off':
      return 'Offline PINs are not enabled for this workstation.';
    case 'no-sign-in-yet':
      return 'Offline PINs appear after your first online sign-in at this workstation.';
    case 'pins-expired':
      return 'Your offline PINs have expired — sign in once online to get new ones.';
    case 'pins-exhausted':
      return 'No offline PINs left — sign in once online to get new ones.';
  }
}

export function pinsLeft(remaining: number, low: boolean): string {
  if (remaining === 0) return 'That was your last offline PIN — sign in once online to get new ones.';
  const n = `${remaining} offline PIN${remaining === 1 ? '' : 's'} left`;
  return low ? `${n} — sign in once online to get more.` : `${n}.`;
}

/** The PIN display timeout (policy pinDisplaySeconds): the app hides the PIN after this long. */
export function pinShownFor(seconds: number): string {
  return `The PIN is hidden after ${seconds} seconds.`;
}

function tileLines(tile: Tile): string[] {
  const head = `${tile.workstationName} (${tile.user}) — ${tile.workstationId}`;
  const state = tile.offline.ok ? pinsLeft(tile.offline.remaining, tile.offline.low) : noOfflinePin(tile.offline.code);
  const error = !tile.offline.ok && tile.offline.code === 'pins-exhausted' ? 'Error: ' : '';
  const lines = [head, `  ${error}${state}`];
  if (tile.active === false)
    lines.push('  Not active at the Control Center yet — the workstation has to accept the pairing.');
  return lines;
}

export function renderMainScreen(screen: MainScreen): string[] {
  const lines: string[] = [];
  if (screen.noInternet) lines.push(NO_INTERNET, '');
  if (screen.tiles.length === 0) lines.push('No workstations yet — pair one with the code on its screen.');
  for (const tile of screen.tiles) lines.push(...tileLines(tile));
  return lines;
}

function viaLine(screen: { via: string; workstationName: string }): string[] {
  if (screen.via === 'no-internet') return [NO_INTERNET];
  if (screen.via === 'workstation-not-answering') return [`${screen.workstationName} didn't answer within 5 seconds.`];
  return [];
}

export function renderOfflinePinScreen(screen: OfflinePinScreen): string[] {
  if (screen.screen === 'no-offline-pin') {
    const prefix = screen.code === 'pins-exhausted' ? 'Error: ' : '';
    return [...viaLine(screen), `${prefix}${noOfflinePin(screen.code)}`];
  }
  return [
    ...viaLine(screen),
    `Offline PIN for ${screen.workstationName} (${screen.user}), ${screen.position} of ${screen.count}:`,
    `  ${screen.pin}`,
    `Type it at ${screen.workstationName}'s login or lock screen.`,
    pinShownFor(screen.displaySeconds),
    pinsLeft(screen.remaining, screen.low),
  ];
}

export function renderTapScreen(screen: TapScreen): string[] {
  switch (screen.screen) {
    case 'approved':
      return [
        `Approved — ${screen.workstationName} is signing ${screen.user} in.`,
        ...(screen.replenished ? ['New offline PINs arrived.'] : []),
      ];
    case 'offline-pin-offered':
      return [
        `${screen.workstationName} didn't answer within 5 seconds.`,
        'Use an offline PIN instead: long-press the workstation, or tap again without --offer-only.',
      ];
    default:
      return renderOfflinePinScreen(screen);
  }
}

export function renderInboxEvent(event: InboxEvent): string {
  switch (event.event) {
    case 'auth-request':
      return `Sign-in request ${event.requestId} from ${event.workstationName} for ${event.user}${event.intentId ? ' (your tap)' : ''} — approve or deny it.`;
    case 'decided':
      return `${event.decision === 'approve' ? 'Approved' : 'Denied'} the sign-in at ${event.workstationName} for ${event.user}.`;
    case 'pool-imported':
      return `${event.count} new offline PINs for ${event.workstationName} (${event.user})${event.confirmed ? '' : ' — confirmation pending, will retry'}.`;
    case 'pool-refused':
      return `Refused offline PINs for ${event.workstationName} (${event.user}): ${event.message} (${event.code}).`;
    case 'request-refused':
      return `${event.message} (${event.code})`;
    case 'unreachable':
      return `The Control Center at ${event.url} cannot be reached — retrying.`;
  }
}
