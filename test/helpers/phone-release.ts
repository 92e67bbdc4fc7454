/**
 * What the tests of the phone's release (docs/windows.md §6.5) share: the credential key as a
 * pairing leaves it on both sides, a phone copy as the user state keeps it, the agent's sealed state
 * store (a second reader of its directory; a writer once the agent stopped, to set the
 * `windowsCredential` a test needs), and the search for a secret in every place it must not be.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { SealingKeyProvider } from '../../agent/state/sealing-key.js';
import { UserStateStore } from '../../agent/state/user-state-store.js';
import type { PhoneCopy, WindowsCredentialState } from '../../agent/state/windows-credential.js';
import { loadCredentialKey, type StoredCredentialKey } from '../../phone/core/credential-key.js';
import { openKeystore } from '../../platform/keystore/keystore.js';
import { wrapCredential } from '../../protocol/credential-wrap.js';
import { toBase64url } from '../../protocol/online/base64url.js';
import { utf16le } from '../../protocol/windows-logon-credential.js';
import { queryDb } from '../control-center/helpers.js';

/**
 * CK after a pairing (§6.3): the agent's record holds CK.pub, the phone's vault holds the same key
 * pair, and the vault file (`home`/vault.json) holds neither half in clear.
 */
export async function expectCredentialKeyPaired(
  agentHolds: string | undefined,
  vaultHolds: StoredCredentialKey | undefined,
  home: string,
): Promise<void> {
  expect(agentHolds).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(vaultHolds?.public).toBe(agentHolds);
  const ck = await loadCredentialKey(vaultHolds);
  expect(toBase64url(ck!.publicKey)).toBe(agentHolds);
  const raw = await fs.readFile(path.join(home, 'vault.json'), 'utf8');
  expect(raw).not.toContain(vaultHolds!.pkcs8);
  expect(raw).not.toContain(vaultHolds!.public);
}

/** The password wrapped to a phone's credential key, as `windowsCredential.copies[]` holds it (§6.4). */
export async function phoneCopyAtRest(
  recipient: Uint8Array,
  password: string,
  binding: { sid: string; generation: number; deviceId: string },
): Promise<PhoneCopy> {
  const copy = await wrapCredential(recipient, utf16le(password), { holder: 'phone', ...binding });
  return {
    holder: 'phone',
    deviceId: binding.deviceId,
    credentialKey: Buffer.from(recipient).toString('base64url'),
    eph: copy.eph,
    nonce: copy.nonce,
    ciphertext: copy.ciphertext,
  };
}

/** The agent's own sealed state (file keystore), as a second reader of its directory. */
export function agentStateStore(files: { stateDir: string; keystoreDir: string }): UserStateStore {
  const keystore = openKeystore({ backend: 'file', directory: files.keystoreDir });
  const store = new UserStateStore(path.join(files.stateDir, 'users'), () => keys.keys());
  const keys = new SealingKeyProvider(files.stateDir, keystore, () => store.hasAnyState());
  return store;
}

/** Puts `credential` in the user's state on disk (the agent that wrote it stopped), as a capture would have. */
export async function keepCredentialInState(
  store: UserStateStore,
  user: string,
  credential: WindowsCredentialState | null,
): Promise<UserStateStore> {
  const state = await store.read(user);
  if (!state) throw new Error(`no state for ${user}`);
  await store.write({ ...state, generation: state.generation + 1, windowsCredential: credential });
  return store;
}

/** Fails when any secret's bytes, hex, base64 or base64url are in any haystack. */
export function expectNoSecrets(haystacks: readonly [string, Buffer][], secrets: readonly Uint8Array[]): void {
  const needles = secrets.map((secret) => Buffer.from(secret));
  const texts = needles.flatMap((b) => [b.toString('hex'), b.toString('base64'), b.toString('base64url')]);
  for (const [name, hay] of haystacks) {
    for (const needle of needles) expect(hay.includes(needle), `${name} holds a secret's bytes`).toBe(false);
    const text = hay.toString('latin1');
    for (const needle of texts) expect(text.includes(needle), `${name} holds a secret's text`).toBe(false);
  }
}

/** Every regular file under `dir` (links not followed), named by its path below `dir`: haystacks for expectNoSecrets. */
export async function haystacksUnder(dir: string): Promise<[string, Buffer][]> {
  const haystacks: [string, Buffer][] = [];
  for (const file of await fs.readdir(dir, { recursive: true })) {
    const full = path.join(dir, String(file));
    if ((await fs.lstat(full)).isFile()) haystacks.push([String(file), await fs.readFile(full)]);
  }
  return haystacks;
}

/**
 * The Control Center's database holds `count` relayed releases, and the search reaches it: the
 * first release's ciphertext is in one of the haystacks.
 */
export function expectReleasesFound(databaseFile: string, count: number, haystacks: readonly [string, Buffer][]): void {
  const released = queryDb<{ release: string }>(
    databaseFile,
    'SELECT release FROM auth_requests WHERE release IS NOT NULL',
  );
  expect(released).toHaveLength(count);
  const ciphertext = (JSON.parse(released[0]!.release) as { ciphertext: string }).ciphertext;
  expect(haystacks.some(([, hay]) => hay.toString('latin1').includes(ciphertext))).toBe(true);
}
