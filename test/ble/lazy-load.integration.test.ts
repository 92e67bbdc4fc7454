// noble and bleno (native bindings, ~10 MB of RSS) load only when a process opens BLE.
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from './processes.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
beforeAll(() => ensureBuilt(), 120_000);

function loadedAfter(body: string): string[] {
  const script = `
    import { createRequire } from 'node:module';
    ${body}
    const cache = createRequire(import.meta.url).cache;
    console.log(JSON.stringify(Object.keys(cache).filter((k) => k.includes('@stoprocent')).map((k) => k.split('node_modules/').pop())));
    process.exit(0);`;
  return JSON.parse(
    execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' }),
  ) as string[];
}

describe('lazy loading of the BLE libraries', () => {
  it('importing the central, the peripheral and the CLI entry points loads neither noble nor bleno', () => {
    const url = (p: string) => pathToFileURL(join(ROOT, 'dist', p)).href;
    const entryPoints = [
      'ble/central.js',
      'ble/peripheral.js',
      'cli/main.js',
      'cli/commands/ble/radio-tools.js',
      'cli/commands/ble/virtual-controller.js',
      'phone/cli/ble-actions.js',
    ];
    expect(loadedAfter(entryPoints.map((p) => `await import('${url(p)}');`).join(' '))).toEqual([]);
  });

  it('opening a virtual adapter loads noble and its HCI layer, and not bleno', () => {
    const url = (p: string) => pathToFileURL(join(ROOT, 'dist/ble', p)).href;
    const loaded = loadedAfter(`
      const { VirtualController } = await import('${url('virtual-controller/index.js')}');
      const { createNoble } = await import('${url('stack.js')}');
      const c = new VirtualController(); c.addPort('ws'); createNoble({ kind: 'virtual', controller: c, port: 'ws' });`);
    expect(loaded.some((k) => k.startsWith('@stoprocent/noble/'))).toBe(true);
    expect(loaded.some((k) => k.startsWith('@stoprocent/bleno/'))).toBe(false);
  });
});
