/** Linux's implementation of every seam (platform/platform.ts), one file per seam beside this one. */
import type { Platform } from '../platform.js';
import { readBootClock } from './boot-clock.js';
import { fsyncDirectory, writeFileDurably } from './durable-file.js';
import { acquireExclusiveLock } from './file-lock.js';
import { unixSocketTransport } from './ipc-transport.js';
import { linuxKeystores } from './keystores.js';
import { checkPassword } from './password-check.js';
import { checkDirectoryChain, checkParentDirectory, checkStats, makeDirectories } from './secure-path.js';
import { trustedOwners } from './secure-path.js';
import { lookupUserByName, lookupUserByUid } from './users.js';

export const linuxPlatform: Platform = {
  name: 'linux',
  // Getters: the values are read at call time, so no import order can see them uninitialised.
  get ipc() {
    return unixSocketTransport;
  },
  users: {
    byName: lookupUserByName,
    byId: (id) => (typeof id === 'number' ? lookupUserByUid(id) : null),
    current: () => process.getuid?.() ?? 0,
    isAdministrator: () => process.getuid?.() === 0,
  },
  locks: { acquireExclusive: acquireExclusiveLock },
  durable: { writeFile: writeFileDurably, syncDirectory: fsyncDirectory },
  access: { check: checkStats, checkDirectoryChain, checkParentDirectory, makeDirectories, trustedOwners },
  bootClock: { now: readBootClock },
  get keystores() {
    return linuxKeystores;
  },
  passwords: { check: checkPassword },
  defaults: { configFile: '/etc/latchkey/agent.json', stateDir: '/var/lib/latchkey' },
};
