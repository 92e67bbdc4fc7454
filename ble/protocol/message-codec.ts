/**
 * The latchkey-ble/1 messages (docs/ble-protocol.md §5.1): a version byte, a type byte and a
 * fixed-length body per type. One decoder validates every message at the trust boundary.
 */
import { concatBytes } from '../../protocol/bytes.js';
import { AEAD_TAG_BYTES, CHALLENGE_BYTES, KEY_BYTES, NAME_BYTES, PROTOCOL_VERSION } from './constants.js';
import { SIGNATURE_BYTES, TAG_BYTES } from './constants.js';
import { BleProtocolError } from './errors.js';

export const MessageType = {
  hello: 0x01,
  ready: 0x02,
  challenge: 0x03,
  proof: 0x04,
  verdict: 0x05,
  // Pairing over BLE (§12)
  pairHello: 0x11,
  pairReady: 0x12,
  pairConfirm: 0x13,
  pairDone: 0x14,
  error: 0x7f,
} as const;
export type MessageTypeName = keyof typeof MessageType;

export const HEADER_BYTES = 2;
export const REQUEST_UNLOCK = 0x01;
/** Unlock and release the phone's copy key of the Windows password (docs/windows.md §6.5). */
export const REQUEST_UNLOCK_AND_RELEASE = 0x02;

/** Offsets and sizes inside each message. */
export const HELLO_SIGNED_BYTES = HEADER_BYTES + 1 + TAG_BYTES + KEY_BYTES; // 51
export const READY_AAD_BYTES = HEADER_BYTES + KEY_BYTES; // 34
/** The sealed part of PAIR-READY and PAIR-CONFIRM: identity key ‖ MAC ‖ signature ‖ name (§12.2). */
export const PAIR_SEALED_PLAINTEXT_BYTES = KEY_BYTES + 32 + SIGNATURE_BYTES + NAME_BYTES; // 192
export const MESSAGE_BYTES = {
  hello: HELLO_SIGNED_BYTES + SIGNATURE_BYTES, // 115
  ready: READY_AAD_BYTES + 1 + AEAD_TAG_BYTES, // 51
  challenge: HEADER_BYTES + CHALLENGE_BYTES + AEAD_TAG_BYTES, // 50
  proof: HEADER_BYTES + SIGNATURE_BYTES + AEAD_TAG_BYTES, // 82
  verdict: HEADER_BYTES + 1 + AEAD_TAG_BYTES, // 19
  pairHello: HEADER_BYTES + TAG_BYTES + KEY_BYTES, // 50
  pairReady: READY_AAD_BYTES + PAIR_SEALED_PLAINTEXT_BYTES + AEAD_TAG_BYTES, // 242
  pairConfirm: HEADER_BYTES + PAIR_SEALED_PLAINTEXT_BYTES + AEAD_TAG_BYTES, // 210
  pairDone: HEADER_BYTES + 1 + AEAD_TAG_BYTES, // 19
  error: HEADER_BYTES + 1, // 3
} as const;
/**
 * The longer forms (docs/windows.md §6.3, §6.5): HELLO with request 0x02 carries the copy's eph,
 * its PROOF carries the copy key k after the signature, and PAIR-READY may carry the phone's
 * credential key after its name.
 */
export const CREDENTIAL_MESSAGE_BYTES = {
  hello: MESSAGE_BYTES.hello + KEY_BYTES, // 147
  proof: MESSAGE_BYTES.proof + KEY_BYTES, // 114
  pairReady: MESSAGE_BYTES.pairReady + KEY_BYTES, // 274
} as const;

export const ReadyStatus = { approved: 0x00, declined: 0x01, timedOut: 0x02 } as const;
export const VerdictResult = { accepted: 0x00, badProof: 0x01, tooLate: 0x02, tooWeak: 0x03, other: 0x04 } as const;
export const ErrorCode = {
  unknownTag: 0x01,
  badHello: 0x02,
  replayedHello: 0x03,
  badMessage: 0x04,
  timeout: 0x05,
  busy: 0x06,
  unsupportedRequest: 0x07,
  /** Pairing: PAIR-READY did not open under the code's key (a wrong code). */
  pairingRefused: 0x08,
} as const;
/** PAIR-DONE status (§12.1). */
export const PairDoneStatus = { stored: 0x00, notStored: 0x01 } as const;

export type DecodedMessage =
  | {
      readonly type: 'hello';
      readonly bytes: Uint8Array;
      readonly request: number;
      readonly tag: Uint8Array;
      readonly ephemeral: Uint8Array;
      /** Request 0x02 only: the ephemeral key of the phone's copy of the Windows password. */
      readonly copyEph: Uint8Array | null;
      /** What sigW covers (everything before it). */
      readonly signed: Uint8Array;
      readonly signature: Uint8Array;
    }
  | { readonly type: 'ready'; readonly bytes: Uint8Array; readonly ephemeral: Uint8Array; readonly sealed: Uint8Array }
  | { readonly type: 'challenge'; readonly bytes: Uint8Array; readonly sealed: Uint8Array }
  | { readonly type: 'proof'; readonly bytes: Uint8Array; readonly sealed: Uint8Array }
  | { readonly type: 'verdict'; readonly bytes: Uint8Array; readonly sealed: Uint8Array }
  | { readonly type: 'pairHello'; readonly bytes: Uint8Array; readonly tag: Uint8Array; readonly ephemeral: Uint8Array }
  | {
      readonly type: 'pairReady';
      readonly bytes: Uint8Array;
      readonly ephemeral: Uint8Array;
      readonly sealed: Uint8Array;
    }
  | { readonly type: 'pairConfirm'; readonly bytes: Uint8Array; readonly sealed: Uint8Array }
  | { readonly type: 'pairDone'; readonly bytes: Uint8Array; readonly sealed: Uint8Array }
  | { readonly type: 'error'; readonly bytes: Uint8Array; readonly code: number };

const NAMES = new Map<number, MessageTypeName>(
  Object.entries(MessageType).map(([name, value]) => [value, name as MessageTypeName]),
);

export function header(type: MessageTypeName): Uint8Array {
  return Uint8Array.of(PROTOCOL_VERSION, MessageType[type]);
}

/** Checks version, type and the exact length for the type before reading any field. */
export function decodeMessage(bytes: Uint8Array): DecodedMessage {
  if (bytes.length < HEADER_BYTES)
    throw new BleProtocolError('message-malformed', `message of ${bytes.length} bytes has no header`);
  if (bytes[0] !== PROTOCOL_VERSION)
    throw new BleProtocolError(
      'message-malformed',
      `protocol version ${bytes[0]} is not supported (this side speaks ${PROTOCOL_VERSION})`,
    );
  const type = NAMES.get(bytes[1]!);
  if (type === undefined)
    throw new BleProtocolError('message-malformed', `unknown message type 0x${bytes[1]!.toString(16)}`);
  const longer = (CREDENTIAL_MESSAGE_BYTES as Partial<Record<MessageTypeName, number>>)[type];
  if (bytes.length !== MESSAGE_BYTES[type] && bytes.length !== longer) {
    const sizes = longer === undefined ? `${MESSAGE_BYTES[type]}` : `${MESSAGE_BYTES[type]} or ${longer}`;
    throw new BleProtocolError(
      'message-malformed',
      `${type.toUpperCase()} must be ${sizes} bytes (got ${bytes.length})`,
    );
  }
  const body = bytes.subarray(HEADER_BYTES);
  switch (type) {
    case 'hello': {
      // The length follows the request: 0x02 carries eph, every other request does not.
      const releasing = body[0] === REQUEST_UNLOCK_AND_RELEASE;
      if (releasing !== (bytes.length === longer))
        throw new BleProtocolError(
          'message-malformed',
          `HELLO with request 0x${body[0]!.toString(16)} must be ${releasing ? longer : MESSAGE_BYTES.hello} bytes (got ${bytes.length})`,
        );
      const signedBytes = bytes.length - SIGNATURE_BYTES;
      return {
        type,
        bytes,
        request: body[0]!,
        tag: body.subarray(1, 1 + TAG_BYTES),
        ephemeral: body.subarray(1 + TAG_BYTES, 1 + TAG_BYTES + KEY_BYTES),
        copyEph: releasing ? bytes.subarray(HELLO_SIGNED_BYTES, HELLO_SIGNED_BYTES + KEY_BYTES) : null,
        signed: bytes.subarray(0, signedBytes),
        signature: bytes.subarray(signedBytes),
      };
    }
    case 'ready':
    case 'pairReady':
      return { type, bytes, ephemeral: body.subarray(0, KEY_BYTES), sealed: bytes.subarray(READY_AAD_BYTES) };
    case 'pairHello':
      return {
        type,
        bytes,
        tag: body.subarray(0, TAG_BYTES),
        ephemeral: body.subarray(TAG_BYTES, TAG_BYTES + KEY_BYTES),
      };
    case 'error':
      return { type, bytes, code: body[0]! };
    default:
      return { type, bytes, sealed: body };
  }
}

export function encodeError(code: number): Uint8Array {
  return concatBytes(header('error'), Uint8Array.of(code & 0xff));
}
