/**
 * What a phone signs and a workstation checks (docs/online-protocol.md "Online sign-in" and
 * "Replenishment"): approvals and pool confirmations, each bound to every id involved.
 */
import { fromBase64url, toBase64url } from './base64url.js';
import { transcript } from './canonical-json.js';
import { sign, verify, type CryptoKey } from '../crypto/webcrypto.js';
import type { ReleaseBody } from './credential-release.js';

export interface ApprovalFields {
  readonly requestId: string;
  readonly workstationId: string;
  readonly user: string;
  /** base64url of the workstation's 32-byte challenge. */
  readonly challenge: string;
  readonly decision: 'approve' | 'deny';
  readonly deviceId: string;
  readonly signedAt: number;
  /** The copy key sealed to the request key (docs/windows.md §6.5); signed with the rest when present. */
  readonly release?: ReleaseBody;
}

export interface PoolConfirmFields {
  readonly deliveryId: string;
  readonly poolId: string;
  readonly deviceId: string;
  readonly workstationId: string;
  readonly user: string;
}

export async function signApproval(fields: ApprovalFields, deviceKey: CryptoKey): Promise<string> {
  return toBase64url(await sign(deviceKey, transcript('latchkey-approval-v1', { ...fields })));
}

export async function checkApproval(
  fields: ApprovalFields,
  signature: string,
  deviceSigningKey: Uint8Array,
): Promise<boolean> {
  try {
    return await verify(deviceSigningKey, fromBase64url(signature), transcript('latchkey-approval-v1', { ...fields }));
  } catch {
    return false;
  }
}

export async function signPoolConfirm(fields: PoolConfirmFields, deviceKey: CryptoKey): Promise<string> {
  return toBase64url(await sign(deviceKey, transcript('latchkey-pool-confirm-v1', { ...fields })));
}

export async function checkPoolConfirm(
  fields: PoolConfirmFields,
  signature: string,
  deviceSigningKey: Uint8Array,
): Promise<boolean> {
  try {
    return await verify(
      deviceSigningKey,
      fromBase64url(signature),
      transcript('latchkey-pool-confirm-v1', { ...fields }),
    );
  } catch {
    return false;
  }
}
