/**
 * Recovery PINs (docs/online-protocol.md "Recovery PIN"): when the policy turns them on, each
 * user known here gets a one-time 12-symbol PIN. The agent keeps only its Argon2id verifier and
 * hands the PIN, sealed to the Control Center's box key, to the CC, where an admin can reveal it.
 * Used or not uploaded (a crash between), it is replaced by a fresh one.
 */
import * as v from 'valibot';
import { randomBytes, randomCrockfordBytes } from '../../protocol/crypto/hashes.js';
import { toBase64url } from '../../protocol/online/base64url.js';
import { sealTo } from '../../protocol/online/sealed-box.js';
import { wipe } from '../../protocol/bytes.js';
import { VERIFIER_SALT_BYTES, computeVerifier } from '../offline-pin/kdf.js';
import { RECOVERY_PIN_LENGTH } from '../offline-pin/pin-candidates.js';
import type { RecoveryPinState } from '../state/user-state.js';
import { updateUser, type OnlineContext } from './online-context.js';

export const RECOVERY_LABEL = 'latchkey-recovery-pin-v1';

function newRecoveryPin(): Uint8Array {
  return randomCrockfordBytes(RECOVERY_PIN_LENGTH);
}

export class RecoveryPins {
  constructor(private readonly ctx: OnlineContext) {}

  /** Makes sure every known user has an uploaded recovery PIN, or none when the policy is off. */
  async reconcile(): Promise<void> {
    const { states } = await this.ctx.store.list();
    for (const state of states) {
      if (!this.ctx.policy().recoveryPin) {
        if (state.recovery)
          await updateUser(this.ctx, state.user, (current) => ({
            next: current.recovery ? { ...current, recovery: null } : null,
            result: undefined,
          }));
        continue;
      }
      if (state.recovery?.uploaded) continue;
      await this.#issue(state.user);
    }
  }

  async #issue(user: string): Promise<void> {
    const { ctx } = this;
    const pin = newRecoveryPin();
    try {
      const salt = randomBytes(VERIFIER_SALT_BYTES);
      const recovery: RecoveryPinState = {
        salt,
        hash: await computeVerifier(pin, salt, ctx.kdf),
        kdf: ctx.kdf,
        createdAtMs: ctx.clock.now().wallMs,
        uploaded: false,
      };
      // Durable first: if the upload is lost, the next reconcile replaces this PIN (nobody can know it).
      await updateUser(ctx, user, (state) => ({ next: { ...state, recovery }, result: undefined }));
      const aad = new TextEncoder().encode(`${ctx.link.workstationId}\u0000${user}`);
      const box = await sealTo(ctx.link.loaded.ccBoxKey, pin, aad, RECOVERY_LABEL);
      await ctx.link.call(
        'PUT',
        `/v1/workstation/recovery-pins/${encodeURIComponent(user)}`,
        { eph: toBase64url(box.eph), nonce: toBase64url(box.nonce), ciphertext: toBase64url(box.ciphertext) },
        v.unknown(),
        10_000,
      );
      await updateUser(ctx, user, (state) => ({
        next:
          state.recovery?.createdAtMs === recovery.createdAtMs
            ? { ...state, recovery: { ...state.recovery, uploaded: true } }
            : null,
        result: undefined,
      }));
      ctx.log.info('recovery-pin.issued', { user });
    } finally {
      wipe(pin);
    }
  }
}
