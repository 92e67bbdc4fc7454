// The agent's record of a phone paired over Bluetooth (agent/ble/ble-phones.ts, docs/state-files.md
// `blePhones`), with the GATT handles kept from pairing (docs/ble-protocol.md §3): the vectors of
// the independent generator through the state schema, and how the handles are kept and renewed.
import { readFileSync } from 'node:fs';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { keptGattHandles, newBlePhone, withGattHandles } from '../../../agent/ble/ble-phones.js';
import { UserStateSchema, type BlePhone } from '../../../agent/state/user-state.js';
import { snapshotWith } from '../../helpers/user-state-snapshot.js';

const vectors = JSON.parse(readFileSync(new URL('../../vectors/ble-phone-records.json', import.meta.url), 'utf8')) as {
  valid: { name: string; record: Record<string, unknown> }[];
  invalid: { name: string; record: Record<string, unknown> }[];
};

/** A whole sealed snapshot holding one BLE phone record. */
const stateWith = (record: Record<string, unknown>) => snapshotWith({ blePhones: [record] });

describe('BLE phone records on disk (test/vectors/ble-phone-records.json)', () => {
  it.each(vectors.valid)('reads $name', ({ record }) => {
    const parsed = v.safeParse(UserStateSchema, stateWith(record));
    expect(parsed.success, JSON.stringify(parsed.issues?.map((i) => i.message))).toBe(true);
    expect((parsed.output as { blePhones: unknown[] }).blePhones[0]).toEqual(record);
  });

  it.each(vectors.invalid)('refuses $name', ({ record }) => {
    expect(v.safeParse(UserStateSchema, stateWith(record)).success).toBe(false);
  });
});

describe('keeping the GATT handles', () => {
  const peer = {
    peerName: 'Pixel 9',
    pairingKey: new Uint8Array(32).fill(1),
    peerPublicKey: new Uint8Array(32).fill(2),
  };
  const handles = { controlPoint: 0x0e, response: 0x10, cccd: 0x11 };

  it('a new record keeps what pairing found, or nothing when discovery could not tell', () => {
    expect(newBlePhone('7K2QD', new Uint8Array(32), peer, 1, handles).gatt).toEqual(handles);
    expect('gatt' in newBlePhone('7K2QD', new Uint8Array(32), peer, 1, null)).toBe(false);
  });

  it('the central is given the kept handles per device id; a record without any gives none', () => {
    const a: BlePhone = newBlePhone('AAAAA', new Uint8Array(32), peer, 1, handles);
    const b: BlePhone = newBlePhone('BBBBB', new Uint8Array(32), peer, 1, null);
    expect(keptGattHandles([a, b])).toEqual({ 'ble-AAAAA': handles });
  });

  it('an unlock that used other handles replaces them (no write when they are the same)', () => {
    const phone = newBlePhone('AAAAA', new Uint8Array(32), peer, 1, handles);
    expect(withGattHandles(phone, { ...handles })).toBeNull();
    expect(withGattHandles(phone, { controlPoint: 0x4e, response: 0x50, cccd: 0x51 })?.gatt).toEqual({
      controlPoint: 0x4e,
      response: 0x50,
      cccd: 0x51,
    });
    expect(withGattHandles(phone, null)).not.toHaveProperty('gatt');
    expect(withGattHandles(newBlePhone('AAAAA', new Uint8Array(32), peer, 1, null), null)).toBeNull();
  });
});
