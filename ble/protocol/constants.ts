/** Named sizes, UUIDs and bounds of latchkey-ble/1 (docs/ble-protocol.md). */

export const PROTOCOL_LABEL = 'latchkey-ble/1';
export const PROTOCOL_VERSION = 0x01;

// §3 GATT layout (128-bit UUIDs, lower case without dashes as noble and bleno want them).
export const SERVICE_UUID = '99ac00014f284e28a9d6c9cd6b5624c9';
export const CONTROL_POINT_UUID = '99ac00024f284e28a9d6c9cd6b5624c9';
export const RESPONSE_UUID = '99ac00034f284e28a9d6c9cd6b5624c9';
export const GATT_DEVICE_NAME = 'Latchkey';

// §2 discovery
export const SLOT_SECONDS = 600;
export const TAG_BYTES = 16;
export const DEFAULT_SLOT_TOLERANCE = 1;
export const COMPANY_ID_TEST = 0xffff;
export const TAG_MARKER = Uint8Array.of(0x4c, 0x4b, 0x01); // "LK", tag format 1

// §4 framing (Core Vol 3 Part F 3.2.8: ATT_MTU ≥ 23; 3.2.9: attribute values ≤ 512 bytes)
export const MIN_ATT_MTU = 23;
export const ATT_HEADER_BYTES = 3;
export const MAX_ATT_VALUE_BYTES = 512;
export const MAX_MESSAGE_BYTES = 512;
export const FRAGMENT_HEADER_BYTES = 2;
export const FIRST_FRAGMENT_HEADER_BYTES = 4;
export const MIN_MESSAGE_BYTES = 2;

// §5 key and message sizes
export { AEAD_TAG_BYTES, KEY_BYTES, SIGNATURE_BYTES } from '../../protocol/crypto/node-crypto.js';
export const CHALLENGE_BYTES = 32;
export const PAIRING_KEY_BYTES = 32;
/** A name inside a pairing message: UTF-8, zero-padded (§12.2). */
export const NAME_BYTES = 64;

// §6 timeouts (milliseconds)
export const FRAGMENT_TIMEOUT_MS = 1_000;
export const CONNECT_TIMEOUT_MS = 5_000;
export const GATT_SETUP_TIMEOUT_MS = 5_000;
export const HELLO_TIMEOUT_MS = 5_000;
export const DEFAULT_APPROVAL_TIMEOUT_MS = 30_000;
export const PHONE_APPROVAL_PROMPT_MS = 25_000;
export const DEFAULT_PROOF_DEADLINE_MS = 300;
export const VERDICT_TIMEOUT_MS = 2_000;

// §12 pairing over BLE
/** A BLE pairing code lives as long as an online one (docs/online-protocol.md "Limits"). */
export const PAIRING_LIFETIME_MS = 10 * 60_000;
/** Wrong-code attempts before a pairing is burnt, as at the Control Center. */
export const MAX_PAIRING_ATTEMPTS = 5;
/** PAIR-READY after PAIR-HELLO, PAIR-CONFIRM after PAIR-READY, PAIR-DONE after PAIR-CONFIRM. */
export const PAIRING_STEP_TIMEOUT_MS = 5_000;

// §7 proximity
export const DEFAULT_MIN_RSSI = -80;
