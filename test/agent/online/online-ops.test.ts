/**
 * What the lock screen is told about an online sign-in (docs/pam.md "What the person is told"):
 * each cause its own sentence, the Control Center never blamed on the phone or the other way
 * round. The online service is an in-memory port here; its real causes are exercised in
 * test/integration/lock-screen.integration.test.ts and test/agent/online-sign-in.integration.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../platform/log.js';
import { OnlineOps } from '../../../agent/online/online-ops.js';
import type { OnlineService } from '../../../agent/online/online-service.js';
import type { SignInResult } from '../../../agent/online/online-sign-in.js';

const opsAnswering = (result: SignInResult) =>
  new OnlineOps({ signIn: async () => result } as unknown as OnlineService, silentLogger);

describe('online sign-in sentences', () => {
  it.each([
    [
      'offline',
      'unavailable',
      'The sign-in service cannot be reached right now — type an offline PIN or your password.',
    ],
    [
      'service-refused',
      'unavailable',
      "The sign-in service refused this computer's request — type an offline PIN or your password, and tell IT.",
    ],
    ['not-managed', 'unavailable', 'This computer is not set up for sign-in with your phone.'],
    ['no-device', 'unavailable', 'No phone is paired for you on this computer.'],
    ['timeout', 'unavailable', 'No answer from your phone — type an offline PIN or your password.'],
    ['denied', 'rejected', 'The sign-in was denied on your phone.'],
    [
      'bad-approval',
      'rejected',
      'The answer did not come from your paired phone — use an offline PIN or your password.',
    ],
  ] as const)('%s → %s: "%s"', async (code, status, message) => {
    expect(
      await opsAnswering({ ok: false, code, message: 'internal detail' }).signIn('alice', 1_000, 'pam:login'),
    ).toEqual({ status, reason: code, message });
  });

  it("the Control Center's causes never mention the phone; the phone's never the service", async () => {
    for (const code of ['offline', 'service-refused'] as const) {
      expect((await opsAnswering({ ok: false, code, message: '' }).signIn('alice', 1_000, 'x')).message).not.toMatch(
        /your phone/,
      );
    }
    for (const code of ['timeout', 'denied'] as const) {
      expect((await opsAnswering({ ok: false, code, message: '' }).signIn('alice', 1_000, 'x')).message).not.toMatch(
        /service/,
      );
    }
    expect(await opsAnswering({ ok: true, deviceId: 'dev_x' }).signIn('alice', 1_000, 'x')).toEqual({
      status: 'accepted',
      message: 'Approved on your phone — unlocked.',
    });
  });
});
