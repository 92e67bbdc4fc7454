/**
 * A development pairing record on disk, for the dongle tools only (docs/ble-dongles.md
 * "Pairing"): the agent never reads one — it keeps pairings made over BLE in the user's sealed
 * state, and the phone in its vault. Plain JSON, hex fields; refused unless only the owner can
 * read it. Every way a file can be unusable is a PairingFileError with one sentence that names
 * the file and what to do, and never quotes its content (it holds keys).
 */
import { readFileSync, statSync, type Stats } from 'node:fs';
import { fromHex } from '../protocol/bytes.js';
import { PairingFileError } from './errors.js';
import { identityFromSeed, type PhonePairing, type WorkstationPairing } from './protocol/pairing-records.js';

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

/** A pairing file is a few hundred bytes; anything much larger is not one. */
export const MAX_PAIRING_FILE_BYTES = 16 * 1024;

const HOW_TO_MAKE = 'write a pair with "latchkey ble dev-pairing" (docs/ble-dongles.md "Pairing")';

function hex32(file: string, name: string, value: unknown): Uint8Array {
  if (typeof value !== 'string' || !/^[0-9a-f]{64}$/i.test(value))
    throw new PairingFileError('malformed', `${file}: ${name} must be 64 hex digits`);
  return fromHex(value);
}

function statOf(path: string): Stats {
  try {
    return statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR')
      throw new PairingFileError(
        'missing',
        `the pairing file ${path} does not exist: check the path, or ${HOW_TO_MAKE}`,
        { cause: error },
      );
    throw new PairingFileError(
      'unreadable',
      `cannot read the pairing file ${path} (${code ?? 'error'}): run as its owner`,
      { cause: error },
    );
  }
}

export function readPairingFile(path: string): WorkstationPairing | PhonePairing {
  const stat = statOf(path);
  if (!stat.isFile())
    throw new PairingFileError('malformed', `${path} is not a pairing file (not a regular file): ${HOW_TO_MAKE}`);
  if ((stat.mode & 0o077) !== 0)
    throw new PairingFileError(
      'insecure',
      `${path} holds secrets and must not be readable by group or others (chmod 600)`,
    );
  if (stat.size > MAX_PAIRING_FILE_BYTES)
    throw new PairingFileError(
      'malformed',
      `${path} is not a pairing file (${stat.size} bytes; one is under 1 KB): ${HOW_TO_MAKE}`,
    );
  let raw: Partial<PairingFile>;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8')) as Partial<PairingFile>;
  } catch (error) {
    if (error instanceof SyntaxError)
      throw new PairingFileError('malformed', `${path} is not valid JSON: ${HOW_TO_MAKE}`);
    throw new PairingFileError(
      'unreadable',
      `cannot read the pairing file ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'}): run as its owner`,
      { cause: error },
    );
  }
  if (typeof raw !== 'object' || raw === null)
    throw new PairingFileError('malformed', `${path} is not a pairing file (not a JSON object): ${HOW_TO_MAKE}`);
  if (raw.role !== 'workstation' && raw.role !== 'phone')
    throw new PairingFileError('malformed', `${path}: role must be "workstation" or "phone"`);
  if (typeof raw.id !== 'string' || raw.id.length === 0 || raw.id.length > 64)
    throw new PairingFileError('malformed', `${path}: id must be a string of 1–64 characters`);
  const pairingKey = hex32(path, 'pairingKey', raw.pairingKey);
  const identity = identityFromSeed(hex32(path, 'identityPrivateKey', raw.identityPrivateKey));
  const peer = hex32(path, 'peerPublicKey', raw.peerPublicKey);
  if (raw.role === 'workstation')
    return { id: raw.id, pairingKey, workstationIdentity: identity, phonePublicKey: peer };
  return {
    id: raw.id,
    pairingKey,
    phoneIdentity: identity,
    workstationPublicKey: peer,
    ...(typeof raw.workstationName === 'string' && { workstationName: raw.workstationName }),
  };
}

export function isWorkstationPairing(pairing: WorkstationPairing | PhonePairing): pairing is WorkstationPairing {
  return 'workstationIdentity' in pairing;
}

function readRole<T extends WorkstationPairing | PhonePairing>(
  files: readonly string[],
  role: 'workstation' | 'phone',
): T[] {
  if (files.length === 0) throw new PairingFileError('missing', `--pairing FILE is required: ${HOW_TO_MAKE}`);
  return files.map((file) => {
    const pairing = readPairingFile(file);
    if (isWorkstationPairing(pairing) !== (role === 'workstation')) {
      throw new PairingFileError(
        'wrong-role',
        `${file} is the ${role === 'workstation' ? 'phone' : 'workstation'} side of a pairing; give this side the ${role} file`,
      );
    }
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
