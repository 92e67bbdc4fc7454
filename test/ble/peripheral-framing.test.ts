import { describe, expect, it } from 'vitest';
import { BleProtocolError } from '../../ble/protocol/errors.js';
import { fragmentMessage } from '../../ble/protocol/framing.js';
import { PeripheralFraming } from '../../ble/peripheral-framing.js';
import { hex, vectors } from './protocol/vectors.js';

const protocolError = (code: string) => expect.objectContaining({ name: BleProtocolError.name, code });

describe("the phone's framing on one connection", () => {
  it('refuses a write before the workstation enabled notifications, and sends nothing', () => {
    const framing = new PeripheralFraming();
    expect(framing.ready).toBe(false);
    expect(() => framing.push(Uint8Array.of(0, 0, 1, 5))).toThrow(protocolError('unexpected-message'));
    expect(framing.msToDeadline()).toBeNull();
    expect(() => framing.send(Uint8Array.of(1, 5))).not.toThrow();
  });

  it('reassembles writes at the subscribed MTU and notifies replies as fragments', () => {
    const framing = new PeripheralFraming();
    const sent: Uint8Array[] = [];
    framing.subscribed(20, (fragment) => sent.push(fragment)); // ATT_MTU 23
    const hello = hex(vectors.handshake.hello);
    const fragments = fragmentMessage(hello, 0, 23);
    expect(fragments.length).toBeGreaterThan(1);
    for (const fragment of fragments.slice(0, -1)) expect(framing.push(fragment)).toBeNull();
    expect(framing.msToDeadline()).toBeGreaterThan(0);
    expect(framing.msToDeadline()).toBeLessThanOrEqual(1_000);
    expect(framing.push(fragments.at(-1)!)).toEqual(hello);
    expect(framing.msToDeadline()).toBeNull();

    framing.send(hello);
    expect(sent).toEqual(fragmentMessage(hello, 0, 23));
  });

  it('keeps the first MTU when notifications are enabled twice, and framing errors stay errors', () => {
    const framing = new PeripheralFraming();
    framing.subscribed(20, () => {});
    framing.subscribed(244, () => {});
    const big = fragmentMessage(hex(vectors.handshake.hello), 0, 247)[0]!;
    expect(() => framing.push(big)).toThrow(BleProtocolError);
    expect(framing.ready).toBe(true);
  });
});
