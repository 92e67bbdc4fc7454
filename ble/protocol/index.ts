/** latchkey-ble/1, the pure layer (docs/ble-protocol.md): no sockets, no files, no timers. */
export * from './constants.js';
export * from '../../protocol/crypto/node-crypto.js';
export * from './errors.js';
export * from './framing.js';
export * from './handshake-phone.js';
export * from './handshake-workstation.js';
export * from './message-codec.js';
export * from './pairing-records.js';
export * from './pairing-code.js';
export * from './pairing-handshake.js';
export * from './pairing-schedule.js';
export * from './session.js';
export * from './tag.js';
