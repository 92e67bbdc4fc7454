/**
 * A development pairing record on disk, for the dongle tools only (docs/ble-dongles.md
 * "Pairing"): the agent never reads one — it keeps pairings made over BLE in the user's sealed
 * state, and the phone in its vault. Plain JSON, hex fields; refused unless only the owner can
 * read it.
 */
import { readFileSync, statSync } from 'node:fs';
import { fromHex } from '../protocol/bytes.js';
import { identityFromSeed, type PhonePairing, type WorkstationPairing } from './protocol/pairing.js';

export interface PairingFile {
  readonly role: 'workstation' | 'phone';
  readonly id: string;
  readonly pairingKey: string;
  /** This side's Ed25519 private seed. */
  readonly identityPrivateKey: string;
  /** The other side's Ed25519 public key. */
  readonly peerPublicKey: string;
  readonly workstationName?: string;
}

function hex32(file: string, name: string, value: unknown): Uint8Array {
  if (typeof value !== 'string' || !/^[0-9a-f]{64}$/i.test(value)) throw new TypeError(`${file}: ${name} must be 64 hex digits`);
  return fromHex(value);
}

export function readPairingFile(path: string): WorkstationPairing | PhonePairing {
  const mode = statSync(path).mode;
  if ((mode & 0o077) !== 0) throw new Error(`${path} holds secrets and must not be readable by group or others (chmod 600)`);
  const raw = JSON.parse(readFileSync(path, 'utf8')) as Partial<PairingFile>;
  if (raw.role !== 'workstation' && raw.role !== 'phone') throw new TypeError(`${path}: role must be "workstation" or "phone"`);
  if (typeof raw.id !== 'string' || raw.id.length === 0 || raw.id.length > 64) throw new TypeError(`${path}: id must be a string of 1–64 characters`);
  const pairingKey = hex32(path, 'pairingKey', raw.pairingKey);
  const identity = identityFromSeed(hex32(path, 'identityPrivateKey', raw.identityPrivateKey));
  const peer = hex32(path, 'peerPublicKey', raw.peerPublicKey);
  if (raw.role === 'workstation') return { id: raw.id, pairingKey, workstationIdentity: identity, phonePublicKey: peer };
  return { id: raw.id, pairingKey, phoneIdentity: identity, workstationPublicKey: peer, ...(typeof raw.workstationName === 'string' && { workstationName: raw.workstationName }) };
}

export function isWorkstationPairing(pairing: WorkstationPairing | PhonePairing): pairing is WorkstationPairing {
  return 'workstationIdentity' in pairing;
}

function readRole<T extends WorkstationPairing | PhonePairing>(files: readonly string[], role: 'workstation' | 'phone'): T[] {
  if (files.length === 0) throw new TypeError('--pairing FILE is required (docs/ble-dongles.md "Pairing")');
  return files.map((file) => {
    const pairing = readPairingFile(file);
    if (isWorkstationPairing(pairing) !== (role === 'workstation')) throw new TypeError(`${file} is not a ${role} pairing`);
    return pairing as T;
  });
}

/** The workstation sides of development pairings (`ble test`, `ble scan`). */
export function readWorkstationPairingFiles(files: readonly string[]): WorkstationPairing[] {
  return readRole<WorkstationPairing>(files, 'workstation');
}

/** The phone sides of development pairings (`phone ble serve --pairing`). */
export function readPhonePairingFiles(files: readonly string[]): PhonePairing[] {
  return readRole<PhonePairing>(files, 'phone');
}
