// Run by an installed package's own node under the shipped flags:
//   /usr/lib/latchkey/node/bin/node --lite-mode --no-expose-wasm --single-threaded-gc load-check.mjs /usr/lib/latchkey
// Loads the application's entry modules and every runtime dependency — the lazily loaded
// native ones too, each doing a little real work — and prints what it loaded and any module
// that came from outside the installed tree (there must be none).
import { createRequire } from 'node:module';

const app = process.argv[2];
const require = createRequire(`${app}/dist/cli/main.js`);
const loaded = [];
for (const module of [
  'dist/cli/main.js',
  'dist/agent/agent.js',
  'dist/control-center/control-center.js',
  'dist/ble/stack.js',
]) {
  await import(`${app}/${module}`);
  loaded.push(module);
}
require('koffi').load('libc.so.6');
loaded.push('koffi');
const Database = require('better-sqlite3');
new Database(':memory:').prepare('select 1').get();
loaded.push('better-sqlite3');
await require('@node-rs/argon2').hash('x', { memoryCost: 8, timeCost: 1 });
loaded.push('@node-rs/argon2');
for (const name of [
  '@napi-rs/keyring',
  '@stoprocent/noble',
  '@stoprocent/bleno',
  '@stoprocent/bluetooth-hci-socket',
  'usb',
  '@serialport/bindings-cpp',
  'fastify',
  'commander',
  'valibot',
]) {
  require(name);
  loaded.push(name);
}
const outside = Object.keys(require.cache).filter((file) => !file.startsWith(`${app}/`));
process.stdout.write(`${JSON.stringify({ loaded, outside })}\n`);
process.exit(0);
