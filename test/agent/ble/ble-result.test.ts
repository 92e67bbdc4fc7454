// The one mapping from the radio's result to the lock screen's answer (agent/ble/ble-result.ts).
import { describe, expect, it } from 'vitest';
import { bleAuthAnswer, bleAuthOutcome } from '../../../agent/ble/ble-result.js';
import type { UnlockResult } from '../../../ble/central.js';
import type { BleUnlockFailureCode } from '../../../ble/errors.js';

const failed = (code: BleUnlockFailureCode, stage: 'scan' | 'link' = 'link'): UnlockResult => ({
  ok: false,
  code,
  reason: `because ${code}`,
  attempts: 1,
  retryable: false,
  stage,
});

describe('bleAuthOutcome (docs/ipc.md op 11)', () => {
  it('accepts only a verified proof, naming the phone', () => {
    const ok: UnlockResult = {
      ok: true,
      pairingId: 'ble-7K2QD',
      address: 'x',
      rssi: -50,
      mtu: 256,
      attempts: 1,
      timings: { scanMs: 1, connectMs: 1, setupMs: 1, exchangeMs: 1, proofMs: 1, totalMs: 5 },
      gattCached: false,
      gattHandles: null,
    };
    expect(bleAuthOutcome(ok)).toMatchObject({ status: 'accepted', deviceId: 'ble-7K2QD' });
    expect(bleAuthAnswer(bleAuthOutcome(ok))).toEqual({
      status: 'accepted',
      message: 'Approved on your phone over Bluetooth — unlocked.',
    });
  });

  it.each([
    ['declined', 'declined'],
    ['bad-signature', 'bad-proof'],
    ['decrypt-failed', 'bad-proof'],
    ['bad-key', 'bad-proof'],
    ['reply-too-late', 'too-late'],
    ['signal-too-weak', 'too-weak'],
  ] as const)('rejects %s as %s', (code, reason) => {
    expect(bleAuthOutcome(failed(code))).toMatchObject({ status: 'rejected', reason });
  });

  it.each([
    ['adapter-unavailable', 'ble-off'],
    ['no-phone-found', 'timeout'],
    ['approval-timeout', 'timeout'],
    ['connect-failed', 'link'],
    ['gatt-setup-failed', 'link'],
    ['disconnected', 'link'],
    ['fragment-gap', 'link'],
    ['message-malformed', 'link'],
    ['peer-error', 'link'],
    ['step-timeout', 'link'],
  ] as const)('leaves %s unavailable (%s): the lock screen goes on to the PIN', (code, reason) => {
    expect(bleAuthOutcome(failed(code))).toMatchObject({ status: 'unavailable', reason });
  });

  it('a phone heard only faintly while scanning proved nothing: unavailable, not a rejection', () => {
    expect(bleAuthOutcome(failed('signal-too-weak', 'scan'))).toMatchObject({
      status: 'unavailable',
      reason: 'timeout',
    });
  });

  it('names the cause the person can act on (docs/pam.md "What the person is told")', () => {
    expect(bleAuthAnswer(bleAuthOutcome(failed('no-phone-found'))).message).toBe(
      'Your phone was not found over Bluetooth — is it near, with Latchkey open? Type an offline PIN or your password.',
    );
    expect(bleAuthAnswer(bleAuthOutcome(failed('approval-timeout'))).message).toBe(
      'No answer from your phone over Bluetooth — type an offline PIN or your password.',
    );
    expect(bleAuthAnswer(bleAuthOutcome(failed('signal-too-weak', 'scan'))).message).toBe(
      'Your phone is too far away for Bluetooth — bring it closer, or type an offline PIN or your password.',
    );
    expect(bleAuthAnswer(bleAuthOutcome(failed('signal-too-weak'))).message).toMatch(
      /^Your phone is too far away — bring it closer/,
    );
    expect(bleAuthAnswer(bleAuthOutcome(failed('adapter-unavailable'))).message).toMatch(
      /^Bluetooth is not available on this computer/,
    );
    expect(bleAuthAnswer(bleAuthOutcome(failed('disconnected'))).message).toMatch(
      /^The Bluetooth connection to your phone failed/,
    );
  });

  it('every answer carries a sentence, and no detail of the radio reaches it', () => {
    for (const code of ['declined', 'reply-too-late', 'no-phone-found', 'disconnected'] as const) {
      const answer = bleAuthAnswer(bleAuthOutcome(failed(code)));
      expect(answer.message).toMatch(/\w+.*[.…]$/);
      expect(answer.message).not.toContain('because');
    }
  });
});
