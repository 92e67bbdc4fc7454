/** Loads test/vectors/ble-protocol.json (written by the independent Python generator). */
import { readFileSync } from 'node:fs';
import { fromHex } from '../../../protocol/bytes.js';
import { PhonePairingHandshake, WorkstationPairingHandshake } from '../../../ble/protocol/pairing-handshake.js';
import { identityFromSeed } from '../../../ble/protocol/pairing-records.js';

const path = new URL('../../vectors/ble-protocol.json', import.meta.url);
export const vectors = JSON.parse(readFileSync(path, 'utf8')) as {
  tags: {
    pairingKey: string;
    tagKey: string;
    sessionSalt: string;
    slot: number;
    tag: string;
    manufacturerData: string;
    advertisingData: string;
  }[];
  handshake: { unixMs: number; slot: number } & Record<HandshakeField, string>;
  invalidHandshake: { name: string; side: 'phone' | 'workstation'; after: string[]; input: string; code: string }[];
  fragments: { name: string; mtu: number; messageId: number; message: string; fragments: string[] }[];
  invalidFragments: { name: string; mtu: number; fragments: string[]; failsAt: number; code: string }[];
  pairing: {
    unixMs: number;
    slot: number;
    pairingId: string;
    secret: string;
    workstationName: string;
    phoneName: string;
  } & Record<PairingField, string>;
  invalidPairing: { name: string; side: 'phone' | 'workstation'; after: string[]; input: string; code: string }[];
};

type PairingField =
  | 'codeKey'
  | 'pairTag'
  | 'pairSalt'
  | 'macKey'
  | 'workstationSeed'
  | 'workstationPublicKey'
  | 'phoneSeed'
  | 'phonePublicKey'
  | 'workstationEphemeralPrivate'
  | 'phoneEphemeralPrivate'
  | 'sharedSecret'
  | 'th1'
  | 'kW2P'
  | 'kP2W'
  | 'macP'
  | 'macW'
  | 'pairHello'
  | 'pairReady'
  | 'pairConfirm'
  | 'pairDone'
  | 'pairDoneNotStored'
  | 'pairingKey';

type HandshakeField =
  | 'pairingKey'
  | 'workstationSeed'
  | 'workstationPublicKey'
  | 'phoneSeed'
  | 'phonePublicKey'
  | 'workstationEphemeralPrivate'
  | 'workstationEphemeralPublic'
  | 'phoneEphemeralPrivate'
  | 'phoneEphemeralPublic'
  | 'challenge'
  | 'tag'
  | 'sharedSecret'
  | 'th1'
  | 'kW2P'
  | 'kP2W'
  | 'hello'
  | 'ready'
  | 'challengeMessage'
  | 'proofSignature'
  | 'proof'
  | 'verdict'
  | 'verdictTooWeak'
  | 'verdictBadProof';

export const hex = fromHex;

/** A random source that hands out the given byte strings in order, then refuses. */
export function scriptedRandom(...chunks: Uint8Array[]): (length: number) => Uint8Array {
  const queue = [...chunks];
  return (length) => {
    const next = queue.shift();
    if (!next || next.length !== length) throw new Error(`scripted random: no ${length}-byte chunk left`);
    return next.slice();
  };
}

/** The workstation's side of the vector pairing (§12), from its fixed seeds. */
export function vectorPairingWorkstation(): WorkstationPairingHandshake {
  const v = vectors.pairing;
  return new WorkstationPairingHandshake(
    {
      pairingId: v.pairingId,
      codeKey: hex(v.codeKey),
      identity: identityFromSeed(hex(v.workstationSeed)),
      name: v.workstationName,
      random: scriptedRandom(hex(v.workstationEphemeralPrivate)),
    },
    hex(v.pairTag),
  );
}

/** The phone's side of the vector pairing; with `credentialKey` it sends one (docs/windows.md §6.3). */
export function vectorPairingPhone(credentialKey?: Uint8Array): PhonePairingHandshake {
  const v = vectors.pairing;
  return new PhonePairingHandshake({
    pairingId: v.pairingId,
    codeKey: hex(v.codeKey),
    identity: identityFromSeed(hex(v.phoneSeed)),
    name: v.phoneName,
    random: scriptedRandom(hex(v.phoneEphemeralPrivate)),
    ...(credentialKey ? { credentialKey } : {}),
  });
}
