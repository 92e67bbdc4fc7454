// The sealed root-only store on a real disk (docs/keystore.md, "`file`: the sealed root-only store").
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openKeystore, type Keystore, type KeystoreError } from '../../../platform/keystore/keystore.js';
import { expectNoSecretIn } from './secret-leak.js';
import { rejection } from './expect-keystore-error.js';

const OTHER_UID = 65534; // nobody: tests run as root in CI
let root: string;
let directory: string;
let keystore: Keystore;

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(tmpdir(), 'latchkey-keystore-'));
  directory = path.join(root, 'keystore');
  keystore = openKeystore({ backend: 'file', directory });
});

afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

const entryPath = (name: string): string =>
  path.join(directory, `${createHash('sha256').update(name).digest('hex')}.secret`);
const hostKeyPath = (): string => path.join(directory, 'host.key');
const mode = async (file: string): Promise<number> => (await fs.stat(file)).mode & 0o777;

async function rewriteEntry(name: string, change: (entry: Record<string, unknown>) => void): Promise<void> {
  const entry = JSON.parse(await fs.readFile(entryPath(name), 'utf8')) as Record<string, unknown>;
  change(entry);
  await fs.writeFile(entryPath(name), JSON.stringify(entry));
}

describe('file keystore: storing and reading', () => {
  it('round-trips binary secrets (0x00 bytes, 1 byte, 4,096 bytes) into arrays the caller owns', async () => {
    const secrets = [Uint8Array.of(0), Uint8Array.of(0, 0xff, 0, 1, 0), new Uint8Array(randomBytes(4096))];
    for (const [index, secret] of secrets.entries()) {
      await keystore.create(`pool-sealing-key/${index}`, secret);
      const read = await keystore.get(`pool-sealing-key/${index}`);
      expect(read).toBeInstanceOf(Uint8Array);
      expect(read.buffer.byteLength).toBe(read.length); // not a view into Node's shared pool
      expect(Buffer.from(read).equals(Buffer.from(secret))).toBe(true);
    }
    expect(keystore.backend).toBe('file');
    expect(keystore.describe()).toBe(`file keystore in ${directory}`);
  });

  it('lays out a 0700 directory, a 0600 32-byte host.key and 0600 entries named by sha256, no temp files', async () => {
    const secret = new Uint8Array(randomBytes(40));
    await keystore.create('a/b', secret);
    expect(await mode(directory)).toBe(0o700);
    expect(await mode(hostKeyPath())).toBe(0o600);
    expect((await fs.readFile(hostKeyPath())).length).toBe(32);
    expect(await mode(entryPath('a/b'))).toBe(0o600);
    expect((await fs.readdir(directory)).sort()).toEqual([path.basename(entryPath('a/b')), 'host.key'].sort());

    const entry = JSON.parse(await fs.readFile(entryPath('a/b'), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(entry)).toEqual(['format', 'version', 'nonce', 'sealed']);
    expect(entry.format).toBe('latchkey-keystore-entry');
    expect(entry.version).toBe(1);
    expect(Buffer.from(entry.nonce as string, 'base64').length).toBe(12);
    expect(Buffer.from(entry.sealed as string, 'base64').length).toBe(secret.length + 16);
  });

  it('a missing secret is keystore-missing, never null — and get creates nothing', async () => {
    const error = await rejection(keystore.get('pool-sealing-key/none'));
    expect(error.code).toBe('keystore-missing');
    expect(error.message).toBe(`no secret named "pool-sealing-key/none" in the file keystore in ${directory}`);
    await expect(fs.stat(directory)).rejects.toThrow(/ENOENT/);

    await fs.mkdir(directory, { mode: 0o700 });
    expect((await rejection(keystore.get('pool-sealing-key/none'))).code).toBe('keystore-missing');
    await expect(fs.stat(hostKeyPath())).rejects.toThrow(/ENOENT/);

    await keystore.create('other', Uint8Array.of(1));
    expect((await rejection(keystore.get('pool-sealing-key/none'))).code).toBe('keystore-missing');
  });

  it('create refuses to overwrite (keystore-exists) and keeps the old secret', async () => {
    await keystore.create('k', Uint8Array.of(1, 2, 3));
    const error = await rejection(keystore.create('k', Uint8Array.of(4, 5, 6)));
    expect(error.code).toBe('keystore-exists');
    expect(Array.from(await keystore.get('k'))).toEqual([1, 2, 3]);
  });

  it('delete: true once, then false; missing afterwards; false when the directory does not exist', async () => {
    expect(await keystore.delete('k')).toBe(false);
    await keystore.create('k', Uint8Array.of(9));
    expect(await keystore.delete('k')).toBe(true);
    expect(await keystore.delete('k')).toBe(false);
    expect((await rejection(keystore.get('k'))).code).toBe('keystore-missing');
    await keystore.create('k', Uint8Array.of(10));
    expect(Array.from(await keystore.get('k'))).toEqual([10]);
  });

  it('concurrent first creates make one host key and every entry stays readable', async () => {
    const names = Array.from({ length: 12 }, (_, index) => `concurrent/${index}`);
    await Promise.all(names.map((name, index) => keystore.create(name, Uint8Array.of(index, 0, index))));
    for (const [index, name] of names.entries())
      expect(Array.from(await keystore.get(name))).toEqual([index, 0, index]);
    const reopened = openKeystore({ backend: 'file', directory });
    expect(Array.from(await reopened.get('concurrent/3'))).toEqual([3, 0, 3]);
  });
});

describe('file keystore: tampering is keystore-tampered', () => {
  const secret = Uint8Array.of(0x73, 0x33, 0x63, 0x72, 0x33, 0x74, 0x00, 0x21, 0x5a, 0xa5, 0x42, 0x17);

  let hostKey: Buffer;

  beforeEach(async () => {
    await keystore.create('victim', secret);
    await keystore.create('other', Uint8Array.of(1, 2, 3, 4));
    hostKey = await fs.readFile(hostKeyPath());
  });

  async function expectTampered(pattern: RegExp): Promise<KeystoreError> {
    const error = await rejection(keystore.get('victim'));
    expect(error.code).toBe('keystore-tampered');
    expect(error.message).toMatch(pattern);
    expectNoSecretIn(error, secret);
    expectNoSecretIn(error, hostKey);
    return error;
  }

  it('one flipped bit in the sealed bytes, the tag or the nonce fails authentication', async () => {
    const original = await fs.readFile(entryPath('victim'), 'utf8');
    for (const [field, index] of [
      ['sealed', 0],
      ['sealed', -1],
      ['nonce', 5],
    ] as const) {
      await rewriteEntry('victim', (entry) => {
        const bytes = Buffer.from(entry[field] as string, 'base64');
        bytes[index < 0 ? bytes.length + index : index]! ^= 0x01;
        entry[field] = bytes.toString('base64');
      });
      await expectTampered(/failed authentication/);
      await fs.writeFile(entryPath('victim'), original);
    }
    expect(Buffer.from(await keystore.get('victim')).equals(Buffer.from(secret))).toBe(true);
  });

  it("entry A's file copied over entry B's name fails: the name is bound in", async () => {
    await fs.copyFile(entryPath('other'), entryPath('victim'));
    await expectTampered(/failed authentication: it was modified, sealed under another name/);
  });

  it('an entry sealed with another host key fails', async () => {
    await fs.writeFile(hostKeyPath(), randomBytes(32), { mode: 0o600 });
    await expectTampered(/failed authentication/);
  });

  it('a host.key of the wrong length is refused', async () => {
    await fs.writeFile(hostKeyPath(), randomBytes(31));
    await expectTampered(/host\.key is 31 bytes, not 32: not a host key/);
    await fs.writeFile(hostKeyPath(), randomBytes(33));
    await expectTampered(/host\.key is longer than 32 bytes/);
  });

  it('host.key deleted: reading says so, and create refuses to make a new key that would orphan the entries', async () => {
    await fs.unlink(hostKeyPath());
    await expectTampered(/holds the entry for "victim" but .*host\.key is missing, so it cannot be unsealed/);
    const error = await rejection(keystore.create('new', Uint8Array.of(1)));
    expect(error.code).toBe('keystore-tampered');
    expect(error.message).toMatch(
      /host\.key is missing but 2 sealed entries exist .*refusing to create a new host key/,
    );
    await expect(fs.stat(hostKeyPath())).rejects.toThrow(/ENOENT/);
  });

  it('garbage, oversized and malformed entries are refused before decryption', async () => {
    const cases: [string | Buffer, RegExp][] = [
      ['not json at all', /is not JSON/],
      [Buffer.from([0xff, 0xfe, 0x00]), /is not UTF-8/],
      ['[1,2,3]', /is not a JSON object/],
      ['null', /is not a JSON object/],
      ['x'.repeat(8193), /is over 8192 bytes/],
      [
        `{"format":"latchkey-keystore-entry","version":1,"nonce":"AAAAAAAAAAAAAAAA","sealed":"${'A'.repeat(8000)}"}`,
        /is over 8192 bytes|sealed field/,
      ],
    ];
    for (const [content, pattern] of cases) {
      await fs.writeFile(entryPath('victim'), content);
      await expectTampered(pattern);
    }
  });

  it('entries with wrong, extra or missing fields are refused', async () => {
    const edits: [(entry: Record<string, unknown>) => void, RegExp][] = [
      [(entry) => (entry.version = 2), /has version 2; this agent reads version 1/],
      [(entry) => (entry.version = '1'), /has version "1"/],
      [(entry) => (entry.format = 'latchkey-user-state'), /has format "latchkey-user-state"/],
      [(entry) => (entry.extra = true), /must have exactly the fields/],
      [(entry) => delete entry.nonce, /must have exactly the fields/],
      [(entry) => (entry.nonce = Buffer.alloc(16).toString('base64')), /nonce that is not 12 bytes/],
      [(entry) => (entry.nonce = 'AAAA AAAAAAAAAAA'), /nonce that is not 12 bytes/],
      [(entry) => (entry.sealed = Buffer.alloc(16).toString('base64')), /sealed field that is not 17–4112 bytes/],
      [(entry) => (entry.sealed = `${entry.sealed as string}\n`), /sealed field/],
      [(entry) => (entry.sealed = 12), /sealed field/],
    ];
    const original = await fs.readFile(entryPath('victim'), 'utf8');
    for (const [edit, pattern] of edits) {
      await rewriteEntry('victim', edit);
      await expectTampered(pattern);
      await fs.writeFile(entryPath('victim'), original);
    }
  });
});

describe('file keystore: wrong owner or mode is keystore-insecure', () => {
  beforeEach(async () => {
    await keystore.create('k', Uint8Array.of(1, 2));
  });

  async function expectInsecure(operation: () => Promise<unknown>, pattern: RegExp): Promise<void> {
    const error = await rejection(operation());
    expect(error.code).toBe('keystore-insecure');
    expect(error.message).toMatch(pattern);
  }

  it('an entry readable by group or world (0644, 0640) is refused', async () => {
    for (const bits of [0o644, 0o640, 0o604]) {
      await fs.chmod(entryPath('k'), bits);
      await expectInsecure(() => keystore.get('k'), /has mode 0\d{3}: it must not be group- or world-accessible/);
    }
  });

  it('a group/world-accessible directory (0755, 0750) is refused for get, create and delete', async () => {
    for (const bits of [0o755, 0o750]) {
      await fs.chmod(directory, bits);
      await expectInsecure(
        () => keystore.get('k'),
        /keystore has mode 0(755|750): it must not be group- or world-accessible/,
      );
      await expectInsecure(() => keystore.create('new', Uint8Array.of(1)), /has mode/);
      await expectInsecure(() => keystore.delete('k'), /has mode/);
    }
    await fs.chmod(directory, 0o700);
    expect(Array.from(await keystore.get('k'))).toEqual([1, 2]);
  });

  it('a host.key readable by others is refused', async () => {
    await fs.chmod(hostKeyPath(), 0o644);
    await expectInsecure(() => keystore.get('k'), /host\.key has mode 0644/);
    await expectInsecure(() => keystore.create('new', Uint8Array.of(1)), /host\.key has mode 0644/);
  });

  it(`files or the directory owned by another uid (${OTHER_UID}) are refused`, async () => {
    await fs.chown(entryPath('k'), OTHER_UID, OTHER_UID);
    await expectInsecure(() => keystore.get('k'), new RegExp(`is owned by uid ${OTHER_UID}`));
    await fs.chown(entryPath('k'), process.getuid!(), process.getgid!());

    await fs.chown(hostKeyPath(), OTHER_UID, OTHER_UID);
    await expectInsecure(() => keystore.get('k'), new RegExp(`host\\.key is owned by uid ${OTHER_UID}`));
    await fs.chown(hostKeyPath(), process.getuid!(), process.getgid!());

    await fs.chown(directory, OTHER_UID, OTHER_UID);
    await expectInsecure(() => keystore.get('k'), new RegExp(`keystore is owned by uid ${OTHER_UID}`));
    await expectInsecure(() => keystore.create('new', Uint8Array.of(1)), new RegExp(`owned by uid ${OTHER_UID}`));
  });

  it('a symbolic link in place of an entry or of the directory is refused', async () => {
    const elsewhere = path.join(root, 'elsewhere.secret');
    await fs.rename(entryPath('k'), elsewhere);
    await fs.symlink(elsewhere, entryPath('k'));
    await expectInsecure(() => keystore.get('k'), /is a symbolic link/);

    const linked = openKeystore({ backend: 'file', directory: path.join(root, 'link') });
    await fs.symlink(directory, path.join(root, 'link'));
    await expectInsecure(() => linked.get('k'), /link is not a directory/);
    await expectInsecure(() => linked.create('new', Uint8Array.of(1)), /link is not a directory/);
  });
});
