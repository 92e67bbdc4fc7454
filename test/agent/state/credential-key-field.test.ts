/**
 * `credentialKey` on the user state's phone records (docs/windows.md §6.3, docs/state-files.md):
 * optional, 32 bytes as base64url; a state written before it still loads. (The BLE record's cases
 * are vectors in test/vectors/ble-phone-records.json.)
 */
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { UserStateSchema } from '../../../agent/state/user-state.js';
import { snapshotWith } from '../../helpers/user-state-snapshot.js';

const KEY = 'q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA';

function stateWith(device: Record<string, unknown>) {
  return snapshotWith({
    devices: [
      {
        deviceId: 'dev_0123456789ABCDEFGHJKMNPQRS',
        name: 'Pixel 9',
        signingKey: KEY,
        boxKey: KEY,
        pairedAtMs: 1795000000000,
        ...device,
      },
    ],
  });
}

describe('credentialKey on devices[]', () => {
  it('a record from before it loads, and one with it keeps it', () => {
    expect(v.safeParse(UserStateSchema, stateWith({})).success).toBe(true);
    const parsed = v.safeParse(UserStateSchema, stateWith({ credentialKey: KEY }));
    expect(parsed.success).toBe(true);
    expect((parsed.output as { devices: { credentialKey?: string }[] }).devices[0]!.credentialKey).toBe(KEY);
  });

  it.each([
    ['31 bytes', KEY.slice(0, 42)],
    ['33 bytes', `${KEY}AA`],
    ['standard base64', `${KEY.slice(0, 42)}+`],
    ['null', null],
    ['a number', 7],
  ])('refuses a credential key of %s (the state is unreadable: fails closed)', (_name, credentialKey) => {
    expect(v.safeParse(UserStateSchema, stateWith({ credentialKey })).success).toBe(false);
  });
});
