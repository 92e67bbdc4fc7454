/**
 * The user-lookup seam: local accounts by name and by id. `null` means the account does not
 * exist; any other failure throws SystemError, so an outage of the directory (NSS, a domain) is
 * never taken for "no such user". Linux: getpwnam_r/getpwuid_r (platform/linux/users.ts).
 */
import type { AccountId } from './ipc-transport.js';
import { currentPlatform } from './platform.js';

export interface UserRecord {
  /** As the directory spells it (a case-insensitive backend may return another spelling than asked). */
  name: string;
  uid: AccountId;
  gid: number;
  home: string;
  shell: string;
}

/** The account this process runs as (its uid). */
export function currentAccount(): AccountId {
  return currentPlatform().users.current();
}

/** Whether this process runs as the administrator (root): system-wide defaults, another user's state. */
export function runsAsAdministrator(): boolean {
  return currentPlatform().users.isAdministrator();
}

export function lookupUserByName(name: string): UserRecord | null {
  return currentPlatform().users.byName(name);
}

export function lookupUserById(id: AccountId): UserRecord | null {
  return currentPlatform().users.byId(id);
}
