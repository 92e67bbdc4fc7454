/**
 * The user state journal format (docs/state-files.md "User state journal"): a clear header
 * naming the user, then length-prefixed sealed snapshots. Pure: bytes in, bytes out.
 */
import * as v from 'valibot';
import { decodeUtf8Strict } from '../../protocol/bytes.js';
import { hkdfSha256, randomBytes } from '../../protocol/crypto/hashes.js';
import { aes256GcmOpen, aes256GcmSeal } from '../../protocol/crypto/node-crypto.js';
import { describeIssues } from '../../platform/schema-errors.js';
import { UserStateSchema, resolveStoredState, userStateToJson, type UserState } from './user-state.js';
import { CodedError } from '../../protocol/coded-error.js';

export const JOURNAL_MAGIC = Buffer.from('LKJ1', 'ascii');
export const MAX_USER_BYTES = 256;
export const MAX_RECORD_BYTES = 1024 * 1024;
export const MAX_JOURNAL_BYTES = 4 * 1024 * 1024;
const LENGTH_BYTES = 4;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const MIN_RECORD_BYTES = NONCE_BYTES + 1 + TAG_BYTES;
const AAD_LABEL = 'latchkey-user-state/v1';

export interface SealingKeys {
  readonly stateKey: Uint8Array;
  readonly tagKey: Uint8Array;
}

/** K_state and K_tag from the keystore's sealing key (docs/state-files.md). */
export function deriveSealingKeys(master: Uint8Array): SealingKeys {
  const derive = (info: string) => hkdfSha256(master, new Uint8Array(0), info, 32);
  return { stateKey: derive('latchkey/user-state/v1'), tagKey: derive('latchkey/wrong-pin-tag/v1') };
}

export class StateUnreadableError extends CodedError<'state-unreadable'> {
  /** The journal that could not be read. */
  readonly file: string;

  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super('state-unreadable', message, options);
    this.file = file;
  }
}

function aadFor(user: string): Buffer {
  return Buffer.concat([Buffer.from(AAD_LABEL), Buffer.from([0]), Buffer.from(user, 'utf8')]);
}

export function encodeJournalHeader(user: string): Buffer {
  const name = Buffer.from(user, 'utf8');
  if (name.length < 1 || name.length > MAX_USER_BYTES)
    throw new RangeError(`user name must be 1–${MAX_USER_BYTES} bytes`);
  const length = Buffer.alloc(2);
  length.writeUInt16BE(name.length);
  return Buffer.concat([JOURNAL_MAGIC, length, name]);
}

/** Nonces are public: they are cut from one CSPRNG draw per 341 records instead of one draw each. */
const NONCE_BATCH_BYTES = 341 * NONCE_BYTES;
let nonceBatch: Uint8Array = new Uint8Array(0);
let nonceOffset = 0;

function freshNonce(): Uint8Array {
  if (nonceOffset + NONCE_BYTES > nonceBatch.length) {
    nonceBatch = randomBytes(NONCE_BATCH_BYTES);
    nonceOffset = 0;
  }
  nonceOffset += NONCE_BYTES;
  return nonceBatch.subarray(nonceOffset - NONCE_BYTES, nonceOffset);
}

/**
 * One record: length prefix, then nonce || ciphertext || tag of the snapshot. `previous` is the
 * state of the record it follows in the same journal (null for a journal's first record): pools
 * unchanged since then but for spent PINs carry their verifiers (docs/state-files.md "Carried verifiers").
 */
export function sealRecord(state: UserState, keys: SealingKeys, previous: UserState | null = null): Buffer {
  const nonce = freshNonce();
  const plaintext = Buffer.from(JSON.stringify(userStateToJson(state, previous)), 'utf8');
  const body = Buffer.concat([nonce, aes256GcmSeal(keys.stateKey, nonce, plaintext, aadFor(state.user))]);
  plaintext.fill(0);
  if (body.length > MAX_RECORD_BYTES)
    throw new RangeError(`a state snapshot of ${body.length} bytes is over the limit of ${MAX_RECORD_BYTES}`);
  const length = Buffer.alloc(LENGTH_BYTES);
  length.writeUInt32BE(body.length);
  return Buffer.concat([length, body]);
}

/** The user a journal's header names, or null when the header is not one. */
export function journalUser(bytes: Uint8Array): string | null {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.length < 6 || !buffer.subarray(0, 4).equals(JOURNAL_MAGIC)) return null;
  const length = buffer.readUInt16BE(4);
  if (length < 1 || length > MAX_USER_BYTES || buffer.length < 6 + length) return null;
  return decodeUtf8Strict(buffer.subarray(6, 6 + length));
}

export interface ParsedJournal {
  readonly state: UserState;
  /** Whole records in the journal. */
  readonly records: number;
  /** Where the last whole record ends; anything after it is a torn tail. */
  readonly end: number;
}

/** Reads a journal for `user` (docs/state-files.md "Reading fails closed"). */
export function parseJournal(bytes: Uint8Array, user: string, keys: SealingKeys, file: string): ParsedJournal {
  const fail = (why: string, cause?: unknown) =>
    new StateUnreadableError(file, `state journal ${file} for user ${JSON.stringify(user)} ${why}`, { cause });
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.length > MAX_JOURNAL_BYTES)
    throw fail(`is ${buffer.length} bytes, over the limit of ${MAX_JOURNAL_BYTES}`);
  const named = journalUser(buffer);
  if (named === null) throw fail('does not start with a Latchkey journal header');
  if (named !== user) throw fail('belongs to another user');
  let offset = 6 + Buffer.byteLength(user, 'utf8');
  let state: UserState | null = null;
  let records = 0;
  let end = offset;
  while (offset < buffer.length) {
    if (buffer.length - offset < LENGTH_BYTES) break; // torn tail: the length itself was cut
    const length = buffer.readUInt32BE(offset);
    if (length < MIN_RECORD_BYTES || length > MAX_RECORD_BYTES)
      throw fail(`has a record of impossible length ${length} at byte ${offset}`);
    if (buffer.length - offset - LENGTH_BYTES < length) break; // torn tail: the body was cut
    const body = buffer.subarray(offset + LENGTH_BYTES, offset + LENGTH_BYTES + length);
    const next = openRecord(body, user, keys, fail, offset, state);
    if (state !== null && next.generation !== state.generation + 1) {
      throw fail(
        `has record generation ${next.generation} after ${state.generation} at byte ${offset} (records missing or reordered)`,
      );
    }
    state = next;
    records++;
    offset += LENGTH_BYTES + length;
    end = offset;
  }
  if (state === null) throw fail('holds no complete record');
  return { state, records, end };
}

function openRecord(
  body: Buffer,
  user: string,
  keys: SealingKeys,
  fail: (why: string, cause?: unknown) => StateUnreadableError,
  at: number,
  previous: UserState | null,
): UserState {
  const opened = aes256GcmOpen(keys.stateKey, body.subarray(0, NONCE_BYTES), body.subarray(NONCE_BYTES), aadFor(user));
  if (opened === null)
    throw fail(
      `has a record at byte ${at} that fails authentication (tampered, copied from another user, or sealed with another key)`,
    );
  const plaintext = Buffer.from(opened.buffer, opened.byteOffset, opened.byteLength);
  try {
    const parsed = v.safeParse(UserStateSchema, JSON.parse(plaintext.toString('utf8')));
    if (!parsed.success)
      throw fail(`has a record at byte ${at} with invalid content: ${describeIssues(parsed.issues, '')}`);
    if (parsed.output.user !== user) throw fail('has a record for another user');
    try {
      return resolveStoredState(parsed.output, previous);
    } catch (error) {
      throw fail(`has a record at byte ${at} that ${(error as Error).message}`, error);
    }
  } catch (error) {
    if (error instanceof StateUnreadableError) throw error;
    throw fail(`has a record at byte ${at} whose content is not JSON`, error);
  } finally {
    plaintext.fill(0);
  }
}
