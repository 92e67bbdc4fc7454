/**
 * Fetching the Workstation Settings of every workstation behind one inbox
 * (`GET /v1/device/workstations`) and keeping them with the pairings, so R1 and R8 hold offline.
 */
import type { PhoneContext } from './phone-context.js';
import type { Endpoint } from './pool-import.js';

/** Pairings of this endpoint the Control Center listed (bound and active there). Throws PhoneError. */
export async function refreshSettings(ctx: PhoneContext, endpoint: Endpoint): Promise<Set<string>> {
  const listed = await ctx.api(endpoint).workstations();
  const at = ctx.clock.now();
  const active = new Set<string>();
  await ctx.store.update((state) => {
    for (const pairing of state.pairings) {
      if (pairing.deviceId !== endpoint.deviceId || pairing.url !== endpoint.url) continue;
      const entry = listed.find((w) => w.workstationId === pairing.workstationId && w.user === pairing.user);
      if (!entry) continue;
      pairing.settings = entry.settings;
      pairing.settingsAt = at;
      pairing.workstationName = entry.workstationName;
      active.add(`${pairing.workstationId} ${pairing.user}`);
    }
  });
  return active;
}
