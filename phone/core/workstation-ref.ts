/** Finding a pairing by what a person names: a workstation id or name, and a user when needed. */
import { PhoneError } from './errors.js';
import type { Pairing, PhoneState } from './phone-state.js';

export interface WorkstationRef {
  /** A workstation id (`ws_…`) or its name (case-insensitive). */
  readonly workstation: string;
  readonly user?: string;
}

export function resolvePairing(state: PhoneState, ref: WorkstationRef): Pairing {
  const wanted = ref.workstation.trim();
  const lower = wanted.toLowerCase();
  const byId = state.pairings.filter((p) => p.workstationId === wanted);
  const matches = (
    byId.length > 0 ? byId : state.pairings.filter((p) => p.workstationName.toLowerCase() === lower)
  ).filter((p) => ref.user === undefined || p.user === ref.user);
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) {
    throw new PhoneError(
      'unknown-workstation',
      `This phone is not paired with "${wanted}"${ref.user === undefined ? '' : ` for ${ref.user}`}.`,
    );
  }
  const choices = matches.map((p) => `${p.workstationName} (${p.workstationId}) as ${p.user}`).join('; ');
  throw new PhoneError(
    'ambiguous-workstation',
    `"${wanted}" names more than one pairing — say which with the workstation id or the user: ${choices}.`,
  );
}
