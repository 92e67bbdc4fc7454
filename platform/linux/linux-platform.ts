/**
 * Linux's implementation of every seam (platform/platform.ts), one file per seam beside this one,
 * exported under the names every OS folder uses; platform.ts makes the Platform of them.
 */
export { readBootClock } from './boot-clock.js';
export { fsyncDirectory, writeFileDurably } from './durable-file.js';
export { acquireExclusiveLock } from './file-lock.js';
export { unixSocketTransport as transport } from './ipc-transport.js';
export { linuxKeystores as keystores } from './keystores.js';
export { checkPassword } from './password-check.js';
// The file-access seam is all of secure-path.ts (checkStats, checkDirectoryChain… as platform.ts names them).
export * from './secure-path.js';
export { linuxUsers as users } from './users.js';

export const name = 'linux';
export const defaults = { configFile: '/etc/latchkey/agent.json', stateDir: '/var/lib/latchkey' };
