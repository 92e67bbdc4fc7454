// The public contract of openKeystore (docs/keystore.md): argument checks at the API, and the
// OS backend's native library loaded only when that backend is used. Its own file, so its own
// process: what is loaded here was loaded by these tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KeystoreError, openKeystore, type Keystore } from '../../../platform/keystore/keystore.js';

const root = mkdtempSync(path.join(tmpdir(), 'latchkey-keystore-api-'));
const originalBus = process.env.DBUS_SESSION_BUS_ADDRESS;
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  if (originalBus === undefined) delete process.env.DBUS_SESSION_BUS_ADDRESS;
  else process.env.DBUS_SESSION_BUS_ADDRESS = originalBus;
});

const keyringLibraryLoaded = (): boolean => {
  const report = process.report.getReport() as unknown as { sharedObjects: string[] };
  return report.sharedObjects.some((file) => /keyring\.[^/]*\.node$/.test(file));
};

describe('openKeystore', () => {
  const stores: Keystore[] = [
    openKeystore({ backend: 'file', directory: path.join(root, 'store') }),
    openKeystore({ backend: 'os', service: 'latchkey-test' }),
  ];

  it('refuses names that are not strings (TypeError) or not [a-z0-9/._-]{1,128} (RangeError), naming the parameter', async () => {
    for (const store of stores) {
      for (const bad of [undefined, 42, null, Uint8Array.of(1)]) {
        await expect(store.get(bad as unknown as string)).rejects.toThrow(TypeError);
        await expect(store.delete(bad as unknown as string)).rejects.toThrow(/^name must be a string/);
      }
      for (const bad of ['', 'A', 'a b', 'é', 'a\u0000', 'x'.repeat(129)]) {
        await expect(store.get(bad)).rejects.toThrow(RangeError);
        await expect(store.create(bad, Uint8Array.of(1))).rejects.toThrow(/^name must match \[a-z0-9\/._-\]\{1,128\}/);
      }
    }
  });

  it('refuses secrets that are not Uint8Array (TypeError) or outside 1–4,096 bytes (RangeError), naming the parameter', async () => {
    for (const store of stores) {
      for (const bad of ['secret', [1, 2], null, new ArrayBuffer(4)]) {
        await expect(store.create('ok', bad as unknown as Uint8Array)).rejects.toThrow(TypeError);
        await expect(store.create('ok', bad as unknown as Uint8Array)).rejects.toThrow(/^secret must be a Uint8Array/);
      }
      for (const bad of [new Uint8Array(0), new Uint8Array(4097)]) {
        await expect(store.create('ok', bad)).rejects.toThrow(RangeError);
        await expect(store.create('ok', bad)).rejects.toThrow(`secret must be 1–4096 bytes (got ${bad.length})`);
      }
    }
  });

  it('refuses bad options', () => {
    expect(() => openKeystore({ backend: 'file', directory: 'relative/dir' })).toThrow(RangeError);
    expect(() => openKeystore({ backend: 'file', directory: 7 as unknown as string })).toThrow(
      /options.directory must be a string/,
    );
    expect(() => openKeystore({ backend: 'os', service: '' })).toThrow(/options.service must be 1–128 characters/);
    expect(() => openKeystore({ backend: 'tpm' } as unknown as { backend: 'os' })).toThrow(
      /options.backend must be "file" or "os"/,
    );
  });

  it('describes each store in one line without loading anything', () => {
    expect(stores[0]!.describe()).toBe(`file keystore in ${path.join(root, 'store')}`);
    expect(openKeystore({ backend: 'os' }).describe()).toBe('OS keychain (Secret Service), service "latchkey"');
    expect(stores.map((store) => store.backend)).toEqual(['file', 'os']);
  });
});

describe('lazy loading of the OS backend', () => {
  it('the file store never loads the native keyring library; the OS store loads it on first use', async () => {
    const file = openKeystore({ backend: 'file', directory: path.join(root, 'lazy') });
    await file.create('k', Uint8Array.of(1));
    expect(Array.from(await file.get('k'))).toEqual([1]);
    const os = openKeystore({ backend: 'os' });
    expect(os.describe()).toMatch(/^OS keychain/);
    expect(keyringLibraryLoaded()).toBe(false);

    // No session bus address at all (libdbus reads it once per process, so this file's process
    // is the place for it): the first use loads the library and fails as keystore-locked.
    delete process.env.DBUS_SESSION_BUS_ADDRESS;
    const error = await os.get('k').catch((rejected: unknown) => rejected);
    expect(keyringLibraryLoaded()).toBe(true);
    expect(error).toBeInstanceOf(KeystoreError);
    expect((error as KeystoreError).code).toBe('keystore-locked');
    expect((error as KeystoreError).message).toBe(
      'cannot read the secret "k" in the OS keychain (service "latchkey"): no session bus or no Secret Service is reachable ' +
        '(Using X11 for dbus-daemon autolaunch was disabled at compile time, set your DBUS_SESSION_BUS_ADDRESS instead)',
    );
  });
});
