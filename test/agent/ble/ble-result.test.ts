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

  // Each answer with the radio's codes that lead to it: rejected is final, unavailable lets the
  // lock screen go on to the PIN.
  it.each([
    { status: 'rejected', reason: 'declined', codes: ['declined'] },
    { status: 'rejected', reason: 'bad-proof', codes: ['bad-signature', 'decrypt-failed', 'bad-key'] },
    { status: 'rejected', reason: 'too-late', codes: ['reply-too-late'] },
    { status: 'rejected', reason: 'too-weak', codes: ['signal-too-weak'] },
    { status: 'unavailable', reason: 'ble-off', codes: ['adapter-unavailable'] },
    { status: 'unavailable', reason: 'timeout', codes: ['no-phone-found', 'approval-timeout'] },
    {
      status: 'unavailable',
      reason: 'link',
      codes: [
        'connect-failed',
        'gatt-setup-failed',
        'disconnected',
        'fragment-gap',
        'message-malformed',
        'peer-error',
        'step-timeout',
      ],
    },
  ] as const)('$status with reason $reason, for each of its codes', ({ status, reason, codes }) => {
    for (const code of codes) expect(bleAuthOutcome(failed(code)), code).toMatchObject({ status, reason });
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
