/** The user state journal on a real disk (docs/state-files.md "User state journal"). */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FRESH_HAMMERING } from '../../../agent/offline-pin/anti-hammering.js';
import { deriveSealingKeys, parseJournal } from '../../../agent/state/state-journal.js';
import { emptyUserState, type UserState } from '../../../agent/state/user-state.js';
import { COMPACT_AFTER_RECORDS, StateUnreadableError, UserStateStore } from '../../../agent/state/user-state-store.js';
import { makeTempDir } from '../../helpers/agent-harness.js';

const keys = deriveSealingKeys(new Uint8Array(32).fill(9));
const otherKeys = deriveSealingKeys(new Uint8Array(32).fill(10));

function stateFor(user: string, generation: number): UserState {
  return {
    ...emptyUserState(user),
    generation,
    wallHighWaterMs: 1_000 + generation,
    hammering: { ...FRESH_HAMMERING, failures: generation % 5 },
  };
}

async function freshStore() {
  const dir = await makeTempDir();
  return { dir, store: new UserStateStore(dir, async () => keys) };
}

/** Writes generations 1..n through the store (as the agent does: read, then write). */
async function writeGenerations(store: UserStateStore, user: string, n: number) {
  for (let g = 1; g <= n; g++) {
    await store.read(user);
    await store.write(stateFor(user, g));
  }
}

describe('user state journal', () => {
  it('appends one record per change and reads back the newest', async () => {
    const { store } = await freshStore();
    await writeGenerations(store, 'alice', 5);
    const reread = new UserStateStore(store.directory, async () => keys);
    expect(await reread.read('alice')).toEqual(stateFor('alice', 5));
    const parsed = parseJournal(await fs.readFile(store.fileFor('alice')), 'alice', keys, 'x');
    expect(parsed.records).toBe(5);
  });

  it('compacts to one record after the limit, by atomic rename', async () => {
    const { store } = await freshStore();
    await writeGenerations(store, 'alice', COMPACT_AFTER_RECORDS + 1);
    const parsed = parseJournal(await fs.readFile(store.fileFor('alice')), 'alice', keys, 'x');
    expect(parsed.records).toBe(1);
    expect(parsed.state.generation).toBe(COMPACT_AFTER_RECORDS + 1);
    expect((await fs.readdir(store.directory)).filter((name) => name.includes('.tmp-'))).toEqual([]);
  });

  it('ignores a torn tail (an unacknowledged append) and cuts it off before the next append', async () => {
    const { store } = await freshStore();
    await writeGenerations(store, 'alice', 3);
    const file = store.fileFor('alice');
    const whole = await fs.readFile(file);
    for (const torn of [Buffer.from([0, 0]), Buffer.concat([Buffer.from([0, 0, 1, 0]), randomBytes(50)])]) {
      await fs.writeFile(file, Buffer.concat([whole, torn]));
      const restarted = new UserStateStore(store.directory, async () => keys);
      expect(await restarted.read('alice')).toEqual(stateFor('alice', 3));
      await restarted.write(stateFor('alice', 4));
      expect(await new UserStateStore(store.directory, async () => keys).read('alice')).toEqual(stateFor('alice', 4));
      await fs.writeFile(file, whole);
    }
  });

  it('refuses a journal with a damaged complete record anywhere, and leaves it as it is', async () => {
    const { store } = await freshStore();
    await writeGenerations(store, 'alice', 3);
    const file = store.fileFor('alice');
    const whole = await fs.readFile(file);
    for (const at of [20, Math.floor(whole.length / 2), whole.length - 1]) {
      const damaged = Buffer.from(whole);
      damaged[at]! ^= 0x40;
      await fs.writeFile(file, damaged);
      const error = await new UserStateStore(store.directory, async () => keys)
        .read('alice')
        .catch((caught: unknown) => caught);
      expect(error, `byte ${at}`).toBeInstanceOf(StateUnreadableError);
      expect((error as Error).message).toMatch(/state journal .* for user "alice"/);
      expect(await fs.readFile(file)).toEqual(damaged);
    }
  });

  it('refuses a record sealed with another key, a header naming another user and a missing middle record', async () => {
    const { store } = await freshStore();
    await writeGenerations(store, 'alice', 3);
    await expect(new UserStateStore(store.directory, async () => otherKeys).read('alice')).rejects.toThrow(
      /fails authentication/,
    );
    const bobFile = path.join(store.directory, path.basename(store.fileFor('bob')));
    await fs.copyFile(store.fileFor('alice'), bobFile);
    await expect(new UserStateStore(store.directory, async () => keys).read('bob')).rejects.toThrow(
      /belongs to another user/,
    );
    // Drop the middle record: the generations no longer follow each other.
    const bytes = await fs.readFile(store.fileFor('alice'));
    const header = 6 + 5;
    const first = 4 + bytes.readUInt32BE(header);
    const second = 4 + bytes.readUInt32BE(header + first);
    await fs.writeFile(
      store.fileFor('alice'),
      Buffer.concat([bytes.subarray(0, header + first), bytes.subarray(header + first + second)]),
    );
    await expect(new UserStateStore(store.directory, async () => keys).read('alice')).rejects.toThrow(
      /generation 3 after 1/,
    );
  });

  it("notices a journal changed behind the agent's back instead of trusting its cache", async () => {
    const { store } = await freshStore();
    await writeGenerations(store, 'alice', 2);
    expect(await store.read('alice')).toEqual(stateFor('alice', 2));
    await fs.appendFile(
      store.fileFor('alice'),
      Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff]), randomBytes(100)]),
    );
    await expect(store.read('alice')).rejects.toBeInstanceOf(StateUnreadableError);
  });

  it('refuses journals that are group- or world-readable', async () => {
    const { store } = await freshStore();
    await writeGenerations(store, 'alice', 1);
    await fs.chmod(store.fileFor('alice'), 0o644);
    await expect(new UserStateStore(store.directory, async () => keys).read('alice')).rejects.toThrow(/mode 0644/);
  });
});
