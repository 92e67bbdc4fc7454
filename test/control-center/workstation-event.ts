/** An accepted event as a workstation reports it (docs/online-protocol.md "Events"), with a new id. */
import { newId } from '../../protocol/online/ids.js';

export const acceptedEvent = (time: number, type: string, user: string, context: string | null = null) => ({
  id: newId('ev'),
  time,
  type,
  user,
  result: 'accepted',
  reason: null,
  context,
});
