import { describe, expect, it } from 'vitest';
import { DISABLE_AT_FAILURE, FRESH_HAMMERING, LADDER_MS } from '../../../agent/offline-pin/anti-hammering.js';
import { MINUTE_MS, delayLeftMs, attemptGate, recordFailure } from '../../../agent/offline-pin/anti-hammering.js';
import type { HammeringState } from '../../../agent/offline-pin/anti-hammering.js';
import { ManualClock } from '../../../platform/clock.js';

function fail(state: HammeringState, clock: ManualClock, tag: string) {
  return recordFailure(state, tag, clock.now());
}

describe('anti-hammering ladder (docs/state-files.md)', () => {
  it("follows Apple's ladder: 1–4 free, 5th 1 min, 6th 5 min, 7th–8th 15 min, 9th 1 h, 10th disables", () => {
    expect(LADDER_MS).toEqual([0, 0, 0, 0, 60_000, 300_000, 900_000, 900_000, 3_600_000]);
    const clock = new ManualClock();
    let state = FRESH_HAMMERING;
    const expected = [0, 0, 0, 0, 60_000, 300_000, 900_000, 900_000, 3_600_000];
    for (let n = 1; n <= 9; n++) {
      const outcome = fail(state, clock, `t${n}`.padEnd(32, '0'));
      expect(outcome.counted).toBe(true);
      expect(outcome.delayMs, `failure ${n}`).toBe(expected[n - 1]);
      state = outcome.state;
      expect(attemptGate(state, clock.now()).open).toBe(expected[n - 1] === 0);
      clock.advance(expected[n - 1]!);
      expect(attemptGate(state, clock.now()).open).toBe(true);
    }
    const tenth = fail(state, clock, 'ten'.padEnd(32, '0'));
    expect(DISABLE_AT_FAILURE).toBe(10);
    expect(tenth.disabled).toBe(true);
    clock.advance(365 * 24 * 60 * MINUTE_MS);
    expect(attemptGate(tenth.state, clock.now())).toEqual({ open: false, reason: 'hammering-disabled' });
  });

  it('counts the same wrong input once', () => {
    const clock = new ManualClock();
    let state = FRESH_HAMMERING;
    for (let i = 0; i < 20; i++) state = fail(state, clock, 'a'.repeat(32)).state;
    expect(state.failures).toBe(1);
    expect(attemptGate(state, clock.now()).open).toBe(true);
  });

  it('never lets a clock set back shorten a delay, within a boot or across a reboot', () => {
    const clock = new ManualClock();
    let state = FRESH_HAMMERING;
    for (let n = 1; n <= 6; n++) state = fail(state, clock, `${n}`.repeat(32)).state;
    expect(delayLeftMs(state, clock.now())).toBe(5 * MINUTE_MS);
    clock.advance(MINUTE_MS);
    clock.setWall(clock.now().wallMs - 24 * 60 * MINUTE_MS); // a day back: ignored within the boot
    expect(delayLeftMs(state, clock.now())).toBe(4 * MINUTE_MS);
    clock.setWall(clock.now().wallMs + 24 * 60 * MINUTE_MS * 2); // a day forward: also ignored within the boot
    expect(delayLeftMs(state, clock.now())).toBe(4 * MINUTE_MS);
    clock.reboot();
    clock.setWall(clock.now().wallMs - 48 * 60 * MINUTE_MS); // after a reboot, with the clock set back
    expect(delayLeftMs(state, clock.now())).toBe(5 * MINUTE_MS); // the full delay: never shorter
  });

  it('credits time that really passed across a reboot', () => {
    const clock = new ManualClock();
    let state = FRESH_HAMMERING;
    for (let n = 1; n <= 6; n++) state = fail(state, clock, `${n}`.repeat(32)).state;
    clock.reboot(2 * MINUTE_MS);
    expect(delayLeftMs(state, clock.now())).toBe(3 * MINUTE_MS);
    clock.advance(3 * MINUTE_MS);
    expect(attemptGate(state, clock.now()).open).toBe(true);
  });
});
