/** Windows's implementation of every seam (platform/platform.ts), one file per seam beside this one (docs/windows.md §11). */
import type { Platform } from '../platform.js';
import { readBootClock } from './boot-clock.js';
import { fsyncDirectory, writeFileDurably } from './durable-file.js';
import { acquireExclusiveLock } from './file-lock.js';
import { namedPipeTransport } from './ipc-transport.js';
import { windowsKeystores } from './keystores.js';
import { checkPassword } from './password-check.js';
import { windowsDefaults } from './paths.js';
import {
  checkDirectoryChain,
  checkParentDirectory,
  checkStats,
  makeDirectories,
  trustedOwners,
} from './secure-path.js';
import { processIdentity } from './tokens.js';
import { lookupUserByName, lookupUserBySid } from './users.js';
import { useWin32 } from './win32.js';

const identity = () => processIdentity(useWin32('user-lookup-failed'), 'user-lookup-failed');

export const windowsPlatform: Platform = {
  name: 'win32',
  get ipc() {
    return namedPipeTransport;
  },
  users: {
    byName: lookupUserByName,
    byId: (id) => (typeof id === 'string' ? lookupUserBySid(id) : null),
    current: () => identity().sid,
    isAdministrator: () => identity().administrator,
  },
  locks: { acquireExclusive: acquireExclusiveLock },
  durable: { writeFile: writeFileDurably, syncDirectory: fsyncDirectory },
  access: { check: checkStats, checkDirectoryChain, checkParentDirectory, makeDirectories, trustedOwners },
  bootClock: { now: readBootClock },
  get keystores() {
    return windowsKeystores;
  },
  passwords: { check: checkPassword },
  get defaults() {
    return windowsDefaults;
  },
};
