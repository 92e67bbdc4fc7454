/**
 * The agent's records of phones paired over Bluetooth (agent/state/user-state.ts `BlePhone`) and the
 * shape the BLE layer reads (ble/protocol/pairing-records.ts `WorkstationPairing`). Pure.
 */
import { fromBase64urlOfLength, toBase64url } from '../../protocol/online/base64url.js';
import { wipe } from '../../protocol/bytes.js';
import { identityFromSeed, type WorkstationPairing } from '../../ble/protocol/pairing-records.js';
import type { PairedPeer } from '../../ble/protocol/pairing-handshake.js';
import type { BleGattHandles, BlePhone } from '../state/user-state.js';

export const BLE_DEVICE_PREFIX = 'ble-';

export function bleDeviceId(pairingId: string): string {
  return `${BLE_DEVICE_PREFIX}${pairingId}`;
}

/** A new record from a finished pairing (docs/ble-protocol.md §12), with the GATT handles pairing found (§3). */
export function newBlePhone(
  pairingId: string,
  workstationSeed: Uint8Array,
  peer: PairedPeer,
  pairedAtMs: number,
  gatt: BleGattHandles | null,
): BlePhone {
  return {
    deviceId: bleDeviceId(pairingId),
    name: peer.peerName.slice(0, 64),
    pairingKey: toBase64url(peer.pairingKey),
    workstationSeed: toBase64url(workstationSeed),
    phoneKey: toBase64url(peer.peerPublicKey),
    ...(peer.credentialKey && { credentialKey: toBase64url(peer.credentialKey) }),
    pairedAtMs,
    ...(gatt !== null && { gatt: { controlPoint: gatt.controlPoint, response: gatt.response, cccd: gatt.cccd } }),
  };
}

/** The handles the central may skip discovery with, per device id (docs/ble-protocol.md §3). */
export function keptGattHandles(phones: readonly BlePhone[]): Record<string, BleGattHandles> {
  return Object.fromEntries(phones.flatMap((phone) => (phone.gatt ? [[phone.deviceId, phone.gatt]] : [])));
}

/** The phone's record with the handles the last unlock used, or null when they are what it holds already. */
export function withGattHandles(phone: BlePhone, gatt: BleGattHandles | null): BlePhone | null {
  const same =
    gatt === null
      ? phone.gatt === undefined
      : phone.gatt?.controlPoint === gatt.controlPoint &&
        phone.gatt.response === gatt.response &&
        phone.gatt.cccd === gatt.cccd;
  if (same) return null;
  const { gatt: _old, ...rest } = phone;
  return gatt === null
    ? rest
    : { ...rest, gatt: { controlPoint: gatt.controlPoint, response: gatt.response, cccd: gatt.cccd } };
}

/** The keys as the central wants them; the caller wipes them with `wipePairings` after use. */
export function toWorkstationPairing(phone: BlePhone): WorkstationPairing {
  return {
    id: phone.deviceId,
    pairingKey: fromBase64urlOfLength(phone.pairingKey, 32, 'pairingKey'),
    workstationIdentity: identityFromSeed(fromBase64urlOfLength(phone.workstationSeed, 32, 'workstationSeed')),
    phonePublicKey: fromBase64urlOfLength(phone.phoneKey, 32, 'phoneKey'),
  };
}

export function wipePairings(pairings: readonly WorkstationPairing[]): void {
  for (const pairing of pairings) wipe(pairing.pairingKey, pairing.workstationIdentity.privateKey);
}

/** What `status` shows of a BLE phone: never a key. */
export function describeBlePhone(phone: BlePhone): { deviceId: string; name: string; pairedAt: string } {
  return { deviceId: phone.deviceId, name: phone.name, pairedAt: new Date(phone.pairedAtMs).toISOString() };
}
