/**
 * Redeeming a pairing code (docs/online-protocol.md "Pairing a phone", step 2): stretch the
 * secret, MAC and prove this device's keys, and accept the answer only when the workstation's
 * MAC over its own keys checks out. A mismatch means someone between the two sides swapped keys:
 * nothing is stored.
 */
import { fromBase64url, toBase64url } from '../../protocol/online/base64url.js';
import { checkMac, derivePairingKey, deviceMac, parsePairingCode } from '../../protocol/online/pairing-keys.js';
import { signDeviceProof, workstationMac } from '../../protocol/online/pairing-keys.js';
import type { DeviceKeys as PairingDeviceKeys } from '../../protocol/online/pairing-keys.js';
import { serverCode, type DeviceApi } from './device-api.js';
import type { DeviceKeys } from './device-keys.js';
import { PhoneError } from './errors.js';
import type { Pairing } from './phone-state.js';
import { newCredentialKey } from './credential-key.js';

export interface PairingInput {
  readonly code: string;
  readonly url: string;
  readonly deviceName: string;
  readonly nowMs: number;
}

export async function redeemPairingCode(api: DeviceApi, keys: DeviceKeys, input: PairingInput): Promise<Pairing> {
  const parsed = parsePairingCode(input.code);
  if (parsed === null)
    throw new PhoneError(
      'bad-pairing-code',
      'That is not a pairing code: it has 17 letters and digits, shown as XXXXX-XXXX-XXXX-XXXX on the workstation.',
    );
  const pairingKey = await derivePairingKey(parsed.pairingId, parsed.secret);
  // One credential key per pairing (docs/windows.md §6.3): its public half is MACed and proven with the rest.
  const credentialKey = await newCredentialKey();
  try {
    const ours: PairingDeviceKeys = {
      pairingId: parsed.pairingId,
      signingKey: keys.signingPublic,
      boxKey: keys.boxPublicText,
      name: input.deviceName,
      credentialKey: credentialKey.public,
    };
    const body = {
      ...ours,
      proof: await signDeviceProof(ours, keys.signing),
      deviceMac: toBase64url(await deviceMac(pairingKey, ours)),
    };
    let answer: Awaited<ReturnType<typeof api.redeemPairing>>;
    try {
      answer = await api.redeemPairing(body);
    } catch (error) {
      if (error instanceof PhoneError && error.code === 'refused')
        throw new PhoneError('pairing-refused', refusal(error), { cause: error });
      throw error;
    }
    const theirs = {
      pairingId: parsed.pairingId,
      workstationId: answer.workstationId,
      workstationKey: answer.workstationKey,
      user: answer.user,
      ccKey: answer.ccKey,
    };
    if (!(await checkMac(workstationMac(pairingKey, theirs), fromBase64url(answer.workstationMac)))) {
      throw new PhoneError(
        'pairing-mac-mismatch',
        'The workstation could not be verified — the pairing was not saved. Start again with a new code on the workstation.',
      );
    }
    return {
      workstationId: answer.workstationId,
      workstationName: answer.workstationName,
      user: answer.user,
      deviceId: answer.deviceId,
      url: input.url,
      workstationKey: answer.workstationKey,
      ccKey: answer.ccKey,
      pairedAt: input.nowMs,
      settings: null,
      settingsAt: null,
      pool: null,
      pendingPool: null,
      lastApprovedAt: null,
      credentialKey,
    };
  } finally {
    pairingKey.fill(0);
  }
}

function refusal(error: PhoneError): string {
  switch (serverCode(error)) {
    case 'gone':
      return 'That pairing code has expired or was already used — show a new one on the workstation.';
    case 'conflict':
      return 'The workstation is not ready for this code yet — try again in a moment.';
    case 'rate-limited':
      return 'Too many pairing attempts — wait a minute and try again.';
    case 'not-found':
      return 'No pairing with that code is waiting — check the code on the workstation.';
    default:
      return `The Control Center refused the pairing: ${error.message}`;
  }
}
