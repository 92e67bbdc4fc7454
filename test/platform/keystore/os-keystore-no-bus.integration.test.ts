// No session bus at all (docs/keystore.md: "A keyring that is locked or has no session bus is
// keystore-locked"). Its own file, so its own process: libdbus reads DBUS_SESSION_BUS_ADDRESS
// once per process, on the first connection.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KeystoreError, openKeystore } from '../../../platform/keystore/keystore.js';
import { expectNoSecretIn } from './secret-leak.js';

const originalBus = process.env.DBUS_SESSION_BUS_ADDRESS;
let root: string;
let socket: string;

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'latchkey-no-bus-'));
  socket = path.join(root, 'no-such-bus-socket');
  process.env.DBUS_SESSION_BUS_ADDRESS = `unix:path=${socket}`;
});

afterAll(() => {
  if (originalBus === undefined) delete process.env.DBUS_SESSION_BUS_ADDRESS;
  else process.env.DBUS_SESSION_BUS_ADDRESS = originalBus;
  rmSync(root, { recursive: true, force: true });
});

it('every operation is keystore-locked, never missing, when the session bus socket does not exist', async () => {
  const keystore = openKeystore({ backend: 'os' });
  const name = 'pool-sealing-key/x';
  const secret = Uint8Array.of(0x6c, 0x61, 0x74, 0x63, 0x68, 0x00, 0x6b, 0x65, 0x79);
  const attempts: [string, () => Promise<unknown>][] = [
    ['read', () => keystore.get(name)],
    ['store', () => keystore.create(name, secret)],
    ['delete', () => keystore.delete(name)],
  ];
  for (const [action, attempt] of attempts) {
    const error = await attempt().then(
      () => null,
      (rejected: unknown) => rejected,
    );
    expect(error).toBeInstanceOf(KeystoreError);
    expect((error as KeystoreError).code).toBe('keystore-locked');
    expect((error as KeystoreError).message).toBe(
      `cannot ${action} the secret "${name}" in the OS keychain (service "latchkey"): no session bus or no Secret Service is reachable (Failed to connect to socket ${socket}: No such file or directory)`,
    );
    expectNoSecretIn(error, secret);
  }
});
