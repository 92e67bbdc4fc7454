/**
 * How a workstation names itself to a phone in pairing (§12.1): "alice on ws-1" — the user, and
 * the workstation's one name (its enrolled name, else its host name: the name the phone shows
 * for its online pairing too). The label travels in a 64-byte name field (§12.2), so a long name
 * may arrive cut short; matching allows for that.
 */
import { NAME_BYTES } from './constants.js';

const SEPARATOR = ' on ';

export function workstationLabel(user: string, workstationName: string): string {
  return `${user}${SEPARATOR}${workstationName}`;
}

/** The user and the workstation's name in a label; null for a label of another form (a development pairing's). */
export function parseWorkstationLabel(label: string): { user: string; workstation: string } | null {
  // User names have no spaces, so the first separator ends the user; the name may contain " on ".
  const at = label.indexOf(SEPARATOR);
  if (at <= 0 || at + SEPARATOR.length >= label.length) return null;
  return { user: label.slice(0, at), workstation: label.slice(at + SEPARATOR.length) };
}

/** Whether a label names the workstation `name` (for `user`, when given): the whole label, or the name within it, possibly cut at 64 bytes. */
export function labelNames(label: string, name: string, user?: string): boolean {
  const parsed = parseWorkstationLabel(label);
  if (user !== undefined)
    return (
      parsed !== null &&
      parsed.user === user &&
      (parsed.workstation === name || cutShort(label, parsed.workstation, name))
    );
  if (label === name) return true;
  return parsed !== null && (parsed.workstation === name || cutShort(label, parsed.workstation, name));
}

function cutShort(label: string, received: string, name: string): boolean {
  // A label that (nearly) filled the field may have lost the end of the name (a character is at most 4 bytes).
  return new TextEncoder().encode(label).length > NAME_BYTES - 4 && name.startsWith(received);
}
