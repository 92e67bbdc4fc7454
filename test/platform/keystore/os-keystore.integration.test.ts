// The OS backend against a real gnome-keyring-daemon on a private session bus (no fakes):
// docs/keystore.md, "`os`: the OS keychain".
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openKeystore, type Keystore } from '../../../platform/keystore/keystore.js';
import { expectNoSecretIn } from './secret-leak.js';
import { SecretServiceSession, waitFor } from './secret-service-session.js';
import { rejection } from './expect-keystore-error.js';

const originalBus = process.env.DBUS_SESSION_BUS_ADDRESS;
let session: SecretServiceSession;
let keystore: Keystore;
let counter = 0;
const freshName = (): string => `test/os-${process.pid}-${++counter}`;

async function startUnlocked(): Promise<void> {
  await session.startKeyring({ unlock: true });
  await waitFor(() => session.loginKeyringLocked() === false, 'the login keyring to be unlocked');
}

beforeAll(async () => {
  session = SecretServiceSession.start();
  process.env.DBUS_SESSION_BUS_ADDRESS = session.address;
  await startUnlocked();
  keystore = openKeystore({ backend: 'os' });
});

afterAll(async () => {
  if (originalBus === undefined) delete process.env.DBUS_SESSION_BUS_ADDRESS;
  else process.env.DBUS_SESSION_BUS_ADDRESS = originalBus;
  await session?.close();
});

describe('OS keystore on an unlocked Secret Service', () => {
  it('round-trips binary secrets, 0x00 bytes included, as Uint8Array', async () => {
    const secrets = [Uint8Array.of(0), Uint8Array.of(0, 1, 0, 0xff, 0, 0x80, 0), new Uint8Array(randomBytes(4096))];
    for (const secret of secrets) {
      const name = freshName();
      await keystore.create(name, secret);
      const read = await keystore.get(name);
      expect(read).toBeInstanceOf(Uint8Array);
      expect(Buffer.from(read).equals(Buffer.from(secret))).toBe(true);
    }
  });

  it('reports a missing secret as keystore-missing, never as null', async () => {
    const error = await rejection(keystore.get(freshName()));
    expect(error.code).toBe('keystore-missing');
    expect(error.message).toMatch(/no secret named "test\/os-/);
  });

  it('refuses to overwrite an existing secret and keeps the old one', async () => {
    const name = freshName();
    const first = Uint8Array.of(1, 2, 3);
    await keystore.create(name, first);
    const error = await rejection(keystore.create(name, Uint8Array.of(9, 9, 9)));
    expect(error.code).toBe('keystore-exists');
    expect(Buffer.from(await keystore.get(name)).equals(Buffer.from(first))).toBe(true);
  });

  it('deletes: true once, then false, and the secret reads as missing', async () => {
    const name = freshName();
    await keystore.create(name, Uint8Array.of(7));
    expect(await keystore.delete(name)).toBe(true);
    expect(await keystore.delete(name)).toBe(false);
    expect((await rejection(keystore.get(name))).code).toBe('keystore-missing');
  });

  it('keeps services apart: the same name under another service is missing', async () => {
    const name = freshName();
    await keystore.create(name, Uint8Array.of(5));
    const other = openKeystore({ backend: 'os', service: 'latchkey-other' });
    expect((await rejection(other.get(name))).code).toBe('keystore-missing');
    expect(other.describe()).toBe('OS keychain (Secret Service), service "latchkey-other"');
  });
});

describe('OS keystore on a locked keyring', () => {
  it('after Secret.Service.Lock: a stored secret is keystore-locked, not missing; writes are refused', async () => {
    const name = freshName();
    const secret = new Uint8Array(randomBytes(32));
    await keystore.create(name, secret);
    session.lockLoginKeyring();
    expect(session.loginKeyringLocked()).toBe(true);

    const read = await rejection(keystore.get(name));
    expect(read.code).toBe('keystore-locked');
    expect(read.message).toMatch(/the keyring is locked \(Secret Service: unlock prompt was dismissed\)/);
    expectNoSecretIn(read, secret);
    expect((await rejection(keystore.create(freshName(), Uint8Array.of(1)))).code).toBe('keystore-locked');
    expect((await rejection(keystore.delete(name))).code).toBe('keystore-locked');

    await session.stopKeyring();
    await startUnlocked();
    expect(Buffer.from(await keystore.get(name)).equals(Buffer.from(secret))).toBe(true);
  });

  it('after a restart that did not unlock the login keyring: keystore-locked, not missing', async () => {
    const name = freshName();
    await keystore.create(name, Uint8Array.of(0, 42));
    await session.stopKeyring();
    await session.startKeyring({ unlock: false });
    await waitFor(() => session.loginKeyringLocked() === true, 'the login keyring to be loaded, locked');

    expect((await rejection(keystore.get(name))).code).toBe('keystore-locked');
    // gnome-keyring searches a locked collection's attributes, so a name never stored is still
    // known to be absent: keystore-missing (docs/keystore.md says so).
    expect((await rejection(keystore.get(freshName()))).code).toBe('keystore-missing');

    await session.stopKeyring();
    await startUnlocked();
    expect(Array.from(await keystore.get(name))).toEqual([0, 42]);
  });
});

describe('OS keystore on a Secret Service with no login keyring', () => {
  it('storing is keystore-io ("no default keyring"), reading is keystore-missing', async () => {
    await session.stopKeyring();
    await session.startKeyring({ unlock: false, emptyKeyringDirectory: true });
    expect(session.loginKeyringLocked()).toBe(null);

    const error = await rejection(keystore.create(freshName(), Uint8Array.of(1)));
    expect(error.code).toBe('keystore-io');
    expect(error.message).toMatch(
      /the Secret Service has no default keyring to store into \(Secret Service: no result found\)/,
    );
    expect((await rejection(keystore.get(freshName()))).code).toBe('keystore-missing');

    await session.stopKeyring();
    await startUnlocked();
  });
});

describe('OS keystore when the Secret Service or the bus goes away', () => {
  it('a session bus with no Secret Service on it is keystore-locked, and the next call after it starts works', async () => {
    const name = freshName();
    await keystore.create(name, Uint8Array.of(3, 0, 3));
    await session.stopKeyring();
    for (const attempt of [
      () => keystore.get(name),
      () => keystore.create(freshName(), Uint8Array.of(1)),
      () => keystore.delete(name),
    ]) {
      const error = await rejection(attempt());
      expect(error.code).toBe('keystore-locked');
      expect(error.message).toMatch(
        /no session bus or no Secret Service is reachable \(The name org.freedesktop.secrets was not provided by any .service files\)/,
      );
    }

    await startUnlocked();
    expect(Array.from(await keystore.get(name))).toEqual([3, 0, 3]);
  });

  // libdbus reads DBUS_SESSION_BUS_ADDRESS once per process, so a bus that is not there from
  // the start is tested in its own process: os-keystore-no-bus.integration.test.ts.
  it('a session bus that went away is keystore-locked, not missing', async () => {
    const name = freshName();
    await keystore.create(name, Uint8Array.of(8));
    await session.stopBus();
    const error = await rejection(keystore.get(name));
    expect(error.code).toBe('keystore-locked');
    expect(error.message).toMatch(
      /no session bus or no Secret Service is reachable \(Failed to connect to socket .*: (No such file or directory|Connection refused)\)/,
    );
  });
});
