// How a workstation names itself to a phone ("alice on ws-1") and how the phone matches a name
// typed for it (ble/protocol/workstation-label.ts).
import { describe, expect, it } from 'vitest';
import { NAME_BYTES } from '../../../ble/protocol/constants.js';
import { encodeNameField, decodeNameField } from '../../../ble/protocol/pairing-schedule.js';
import { labelNames, parseWorkstationLabel, workstationLabel } from '../../../ble/protocol/workstation-label.js';

describe('workstation labels', () => {
  it('are the user and the one workstation name; the name may itself contain " on "', () => {
    expect(workstationLabel('alice', 'ws-1')).toBe('alice on ws-1');
    expect(parseWorkstationLabel('alice on Lab on 3rd floor')).toEqual({
      user: 'alice',
      workstation: 'Lab on 3rd floor',
    });
    expect(parseWorkstationLabel('this workstation')).toBeNull();
    expect(parseWorkstationLabel(' on ws-1')).toBeNull();
  });

  it('match the whole label, the workstation name, or that name for one user', () => {
    expect(labelNames('alice on ws-1', 'alice on ws-1')).toBe(true);
    expect(labelNames('alice on ws-1', 'ws-1')).toBe(true);
    expect(labelNames('alice on prod-ws-1', 'ws-1')).toBe(false);
    expect(labelNames('alice on Lab on 3rd floor', '3rd floor')).toBe(false);
    expect(labelNames('alice on ws-1', 'ws-1', 'alice')).toBe(true);
    expect(labelNames('alice on ws-1', 'ws-1', 'bob')).toBe(false);
    expect(labelNames('this workstation', 'this workstation')).toBe(true);
  });

  it('match a long name that arrived cut short in the 64-byte name field', () => {
    const name = `Finance department workstation number ${'7'.repeat(40)}`;
    const received = decodeNameField(encodeNameField(workstationLabel('alice', name)))!;
    expect(new TextEncoder().encode(received).length).toBeLessThanOrEqual(NAME_BYTES);
    expect(received).not.toContain(name);
    expect(labelNames(received, name)).toBe(true);
    expect(labelNames(received, 'Finance department')).toBe(false);
  });
});
