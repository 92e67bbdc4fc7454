/**
 * The main screen (docs/phone.md): every paired workstation with its offline-PIN state, and the
 * no-internet banner (R4) when no Control Center answers. Asking the Control Center also keeps
 * each workstation's settings current (R1, R8).
 */
import { endpointsOf, type PhoneContext } from './phone-context.js';
import { PhoneError } from './errors.js';
import { offlinePinStatus } from './offline-pin-rules.js';
import type { MainScreen } from './screens.js';
import { refreshSettings } from './settings-refresh.js';

export async function mainScreen(ctx: PhoneContext): Promise<MainScreen> {
  const before = await ctx.store.read();
  const endpoints = endpointsOf(before.pairings);
  let noInternet = !ctx.connectivity.hasNetwork();
  let active: Set<string> | null = null;
  if (!noInternet && endpoints.length > 0) {
    active = new Set();
    let answered = 0;
    for (const endpoint of endpoints) {
      try {
        for (const key of await refreshSettings(ctx, endpoint)) active.add(`${endpoint.deviceId} ${key}`);
        answered++;
      } catch (error) {
        if (!(error instanceof PhoneError)) throw error;
        if (error.code !== 'unreachable') answered++; // it answered, if only to refuse
      }
    }
    noInternet = answered === 0;
    if (noInternet) active = null;
  }
  const state = await ctx.store.read();
  const now = ctx.clock.now();
  return {
    screen: 'main',
    noInternet,
    tiles: state.pairings.map((p) => ({
      workstationId: p.workstationId,
      workstationName: p.workstationName,
      user: p.user,
      offline: offlinePinStatus(p, now),
      active: active === null ? null : active.has(`${p.deviceId} ${p.workstationId} ${p.user}`),
      lastApprovedAt: p.lastApprovedAt,
    })),
  };
}
