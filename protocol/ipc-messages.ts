/**
 * One schema per IPC message (docs/ipc.md "Fields" and "Operations"). Decoding is strict for
 * requests (the agent's trust boundary) and fails closed for replies (unknown status → error).
 */
import { decodeUtf8Strict, utf8 } from './bytes.js';
import { ProtocolError } from './errors.js';
import { FrameKind, MAX_REPLY_BODY, MAX_REQUEST_BODY, encodeFrame, hex, splitFields } from './ipc-frame.js';
import type { RawField } from './ipc-frame.js';

export const Op = {
  status: 1,
  verify: 2,
  enroll: 3,
  reset: 4,
  list: 5,
  unenroll: 6,
  'online-auth': 7,
  pair: 8,
  'pair-finish': 9,
  'workstation-enroll': 10,
  'ble-auth': 11,
  'ble-pair': 12,
  'ble-pair-finish': 13,
  'ble-unpair': 14,
  'credential-capture': 15,
  'credential-refused': 16,
} as const;
export type OpName = keyof typeof Op;
const OP_NAMES = Object.fromEntries(Object.entries(Op).map(([name, code]) => [code, name])) as Record<number, OpName>;

export const ReplyStatus = { ok: 0, accepted: 1, rejected: 2, locked: 3, unavailable: 4, error: 5 } as const;
export type ReplyStatusName = keyof typeof ReplyStatus;
const STATUS_NAMES = Object.fromEntries(Object.entries(ReplyStatus).map(([n, c]) => [c, n])) as Record<
  number,
  ReplyStatusName
>;

/** Reasons (docs/ipc.md "Reasons"): a closed set; a client maps anything else to internal-error. */
export const REASONS = [
  'offline-mode-off',
  'no-pool',
  'pools-exhausted',
  'pools-expired',
  'hammering-delay',
  'hammering-disabled',
  'wrong-pin',
  'state-unreadable',
  'keystore-unavailable',
  'internal-error',
  'bad-frame',
  'frame-too-large',
  'unsupported-version',
  'unknown-op',
  'missing-field',
  'bad-field',
  'permission-denied',
  'unknown-user',
  'read-timeout',
  'out-of-order',
  'too-many-connections',
  'password-rejected',
  'password-check-unavailable',
  'not-enrolled',
  'offline',
  'no-device',
  'denied',
  'timeout',
  'bad-approval',
  'not-managed',
  'pairing-expired',
  'pairing-mac',
  'pairing-unknown',
  'pairing-timeout',
  'enrollment-failed',
  'declined',
  'bad-proof',
  'too-late',
  'too-weak',
  'no-phone',
  'ble-off',
  'link',
  'rate-limited',
  'service-refused',
] as const;
export type Reason = (typeof REASONS)[number];
const REASON_SET: ReadonlySet<string> = new Set(REASONS);

export const RESET_FLAG_DISCARD_STATE = 1;
/** status from a lock screen: no `detail`, and the connection is bound to that user's lock-screen requests (docs/ipc.md). */
export const STATUS_FLAG_LOCK_SCREEN = 2;
/** The `flags` bits each op defines; any other bit is `bad-field`. */
const FLAGS_BY_OP: Partial<Record<OpName, number>> = {
  reset: RESET_FLAG_DISCARD_STATE,
  status: STATUS_FLAG_LOCK_SCREEN,
};
/** Longest a client may ask the agent to wait (online-auth, pair-finish). */
export const MAX_WAIT_MS = 600_000;
export const DEFAULT_ONLINE_WAIT_MS = 30_000;
/** ble-auth's wait when the request names none (docs/ipc.md op 11). */
export const DEFAULT_BLE_WAIT_MS = 5_000;

type FieldType = 'u8' | 'u32' | 'flag' | 'text' | 'bytes';
interface FieldSpec {
  readonly tag: number;
  readonly type: FieldType;
  readonly min?: number;
  readonly max?: number;
  readonly pattern?: RegExp;
}

export const FIELDS = {
  op: { tag: 0x01, type: 'u8', min: 1, max: 16 },
  requestId: { tag: 0x02, type: 'u32' },
  user: { tag: 0x03, type: 'text', min: 1, max: 256, pattern: /^[^/]+$/ },
  pin: { tag: 0x04, type: 'bytes', min: 1, max: 64 },
  context: { tag: 0x05, type: 'text', min: 0, max: 128 },
  authenticator: { tag: 0x06, type: 'text', min: 1, max: 64, pattern: /^[A-Za-z0-9._-]+$/ },
  password: { tag: 0x07, type: 'bytes', min: 1, max: 512 },
  flags: { tag: 0x08, type: 'u32', min: 0, max: RESET_FLAG_DISCARD_STATE | STATUS_FLAG_LOCK_SCREEN },
  wait: { tag: 0x09, type: 'u32', min: 0, max: MAX_WAIT_MS },
  pairingId: { tag: 0x0a, type: 'text', min: 5, max: 5, pattern: /^[0-9A-HJKMNP-TV-Z]{5}$/ },
  url: { tag: 0x0b, type: 'text', min: 1, max: 2048, pattern: /^https?:\/\/[^\s]+$/ },
  token: { tag: 0x0c, type: 'bytes', min: 1, max: 128 },
  name: { tag: 0x0d, type: 'text', min: 1, max: 128 },
  status: { tag: 0x10, type: 'u8' },
  reason: { tag: 0x11, type: 'text', min: 1, max: 48, pattern: /^[a-z0-9-]+$/ },
  message: { tag: 0x12, type: 'text', min: 0, max: 512 },
  remaining: { tag: 0x13, type: 'u32' },
  low: { tag: 0x14, type: 'flag' },
  retryAfter: { tag: 0x15, type: 'u32' },
  offlineMode: { tag: 0x16, type: 'flag' },
  usable: { tag: 0x17, type: 'flag' },
  locked: { tag: 0x18, type: 'flag' },
  secret: { tag: 0x19, type: 'bytes', min: 1, max: 2048 },
  detail: { tag: 0x1a, type: 'text', min: 0, max: 60000 },
  online: { tag: 0x1b, type: 'flag' },
  ble: { tag: 0x1c, type: 'flag' },
  generation: { tag: 0x1d, type: 'u32', min: 1 },
  stale: { tag: 0x1e, type: 'flag' },
} as const satisfies Record<string, FieldSpec>;
type FieldName = keyof typeof FIELDS;
const FIELD_BY_TAG = new Map<number, [FieldName, FieldSpec]>(
  Object.entries(FIELDS).map(([name, spec]) => [spec.tag, [name as FieldName, spec]]),
);

/** Which fields each request may carry (besides op and requestId), and which it must. */
const REQUEST_SHAPES: Record<OpName, { required: readonly FieldName[]; optional: readonly FieldName[] }> = {
  status: { required: ['user'], optional: ['flags'] },
  verify: { required: ['user', 'pin'], optional: ['context'] },
  enroll: { required: ['user'], optional: ['authenticator', 'password'] },
  reset: { required: ['user'], optional: ['flags'] },
  list: { required: [], optional: [] },
  unenroll: { required: ['user', 'authenticator'], optional: [] },
  'online-auth': { required: ['user'], optional: ['context', 'wait'] },
  pair: { required: ['user'], optional: ['password'] },
  'pair-finish': { required: ['user', 'pairingId'], optional: ['wait'] },
  'workstation-enroll': { required: ['url', 'token'], optional: ['name'] },
  'ble-auth': { required: ['user'], optional: ['context', 'wait'] },
  'ble-pair': { required: ['user'], optional: [] },
  'ble-pair-finish': { required: ['user', 'pairingId'], optional: ['wait'] },
  'ble-unpair': { required: ['user'], optional: ['authenticator'] },
  'credential-capture': { required: ['user', 'password'], optional: [] },
  'credential-refused': { required: ['user', 'generation'], optional: [] },
};
/** What a request carries when it leaves an optional field out. */
const REQUEST_DEFAULTS: Partial<Record<OpName, Partial<Record<FieldName, Value>>>> = {
  verify: { context: '' },
  'online-auth': { context: '', wait: DEFAULT_ONLINE_WAIT_MS },
  'pair-finish': { wait: DEFAULT_ONLINE_WAIT_MS },
  'ble-auth': { context: '', wait: DEFAULT_BLE_WAIT_MS },
  'ble-pair-finish': { wait: DEFAULT_ONLINE_WAIT_MS },
};
const REPLY_FIELDS: readonly FieldName[] = [
  'requestId',
  'status',
  'reason',
  'message',
  'remaining',
  'low',
  'retryAfter',
  'offlineMode',
  'usable',
  'locked',
  'secret',
  'detail',
  'online',
  'ble',
  'generation',
  'stale',
];

export type Request =
  | { op: 'status'; requestId: number; user: string; lockScreen?: true }
  | { op: 'verify'; requestId: number; user: string; pin: Uint8Array; context: string }
  | { op: 'enroll'; requestId: number; user: string; authenticator?: string; password?: Uint8Array }
  | { op: 'reset'; requestId: number; user: string; discardState: boolean }
  | { op: 'list'; requestId: number }
  | { op: 'unenroll'; requestId: number; user: string; authenticator: string }
  | { op: 'online-auth'; requestId: number; user: string; context: string; wait: number }
  | { op: 'pair'; requestId: number; user: string; password?: Uint8Array }
  | { op: 'pair-finish'; requestId: number; user: string; pairingId: string; wait: number }
  | { op: 'workstation-enroll'; requestId: number; url: string; token: Uint8Array; name?: string }
  | { op: 'ble-auth'; requestId: number; user: string; context: string; wait: number }
  | { op: 'ble-pair'; requestId: number; user: string }
  | { op: 'ble-pair-finish'; requestId: number; user: string; pairingId: string; wait: number }
  | { op: 'ble-unpair'; requestId: number; user: string; authenticator?: string }
  | { op: 'credential-capture'; requestId: number; user: string; password: Uint8Array }
  | { op: 'credential-refused'; requestId: number; user: string; generation: number };

export interface Reply {
  requestId: number;
  status: ReplyStatusName;
  reason?: Reason;
  message?: string;
  remaining?: number;
  low?: boolean;
  retryAfter?: number;
  offlineMode?: boolean;
  usable?: boolean;
  locked?: boolean;
  secret?: Uint8Array;
  detail?: string;
  online?: boolean;
  ble?: boolean;
  /** The capture the handed-back credential came from (docs/windows.md §6.6). */
  generation?: number;
  /** Windows refused the saved password: the person signs in with it once (docs/windows.md §6.6). */
  stale?: boolean;
}

type Value = number | boolean | string | Uint8Array;

function decodeValue(name: FieldName, spec: FieldSpec, raw: Uint8Array, requestId?: number): Value {
  const bad = (why: string) =>
    new ProtocolError('bad-field', `field ${name} (0x${hex(spec.tag)}) ${why}`, { requestId });
  switch (spec.type) {
    case 'u8':
    case 'flag': {
      if (raw.length !== 1) throw bad(`must be 1 byte, got ${raw.length}`);
      const value = raw[0]!;
      if (spec.type === 'flag') {
        if (value > 1) throw bad('must be 0 or 1');
        return value === 1;
      }
      if ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max)) {
        throw bad(`must be from ${spec.min} to ${spec.max}, got ${value}`);
      }
      return value;
    }
    case 'u32': {
      if (raw.length !== 4) throw bad(`must be 4 bytes, got ${raw.length}`);
      const value = new DataView(raw.buffer, raw.byteOffset, 4).getUint32(0);
      if ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max)) {
        throw bad(`must be from ${spec.min} to ${spec.max}, got ${value}`);
      }
      return value;
    }
    case 'text': {
      if (raw.length < (spec.min ?? 0) || raw.length > (spec.max ?? Infinity)) {
        throw bad(`must be ${spec.min}–${spec.max} bytes, got ${raw.length}`);
      }
      const text = decodeUtf8Strict(raw);
      if (text === null) throw bad('is not valid UTF-8');
      // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what this pattern is for
      if (/[\u0000-\u001f\u007f]/.test(text)) throw bad('contains a control character');
      if (spec.pattern && !spec.pattern.test(text)) throw bad('has characters that are not allowed');
      return text;
    }
    case 'bytes':
      if (raw.length < (spec.min ?? 0) || raw.length > (spec.max ?? Infinity)) {
        throw bad(`must be ${spec.min}–${spec.max} bytes, got ${raw.length}`);
      }
      return raw;
  }
}

/** Names and decodes split fields; each must be one `allowed` here. */
function decodeKnownFields(
  raw: ReadonlyMap<number, Uint8Array>,
  allowed: ReadonlySet<FieldName>,
  what: string,
  requestId?: number,
) {
  const values = new Map<FieldName, Value>();
  for (const [tag, bytes] of raw) {
    const entry = FIELD_BY_TAG.get(tag);
    if (entry === undefined) throw new ProtocolError('bad-field', `unknown field 0x${hex(tag)}`, { requestId });
    const [name, spec] = entry;
    if (!allowed.has(name))
      throw new ProtocolError('bad-field', `field ${name} is not allowed in ${what}`, { requestId });
    values.set(name, decodeValue(name, spec, bytes, requestId));
  }
  return values;
}

/** Decodes a request body (docs/ipc.md), split into fields once. Throws ProtocolError with the request id when known. */
export function decodeRequestBody(body: Uint8Array): Request {
  const raw = splitFields(body);
  const idBytes = raw.get(FIELDS.requestId.tag);
  const requestId =
    idBytes?.length === 4 ? new DataView(idBytes.buffer, idBytes.byteOffset, 4).getUint32(0) : undefined;
  const opBytes = raw.get(FIELDS.op.tag);
  if (opBytes === undefined) throw new ProtocolError('missing-field', 'request has no op field', { requestId });
  if (requestId === undefined)
    throw new ProtocolError(idBytes ? 'bad-field' : 'missing-field', 'request has no 4-byte requestId field');
  const opName = opBytes.length === 1 ? OP_NAMES[opBytes[0]!] : undefined;
  if (opName === undefined)
    throw new ProtocolError('unknown-op', `unknown op ${opBytes.length === 1 ? opBytes[0] : '(malformed)'}`, {
      requestId,
    });
  const shape = REQUEST_SHAPES[opName];
  const allowed = new Set<FieldName>(['op', 'requestId', ...shape.required, ...shape.optional]);
  const values = decodeKnownFields(raw, allowed, `a ${opName} request`, requestId);
  for (const name of shape.required) {
    if (!values.has(name))
      throw new ProtocolError('missing-field', `a ${opName} request needs the field ${name}`, { requestId });
  }
  const flags = (values.get('flags') as number | undefined) ?? 0;
  if ((flags & ~(FLAGS_BY_OP[opName] ?? 0)) !== 0)
    throw new ProtocolError('bad-field', `field flags has a bit a ${opName} request does not define (${flags})`, {
      requestId,
    });
  // Every field the op allows, with its default when absent (docs/ipc.md "Operations"); flags become the op's flag.
  const request: Record<string, unknown> = { op: opName, requestId };
  for (const name of [...shape.required, ...shape.optional]) {
    const value = values.get(name) ?? REQUEST_DEFAULTS[opName]?.[name];
    if (name !== 'flags' && value !== undefined) request[name] = value;
  }
  if (opName === 'status' && (flags & STATUS_FLAG_LOCK_SCREEN) !== 0) request.lockScreen = true;
  if (opName === 'reset') request.discardState = (flags & RESET_FLAG_DISCARD_STATE) !== 0;
  return request as Request;
}

function encodeValue(name: FieldName, value: Value): RawField {
  const spec: FieldSpec = FIELDS[name];
  switch (spec.type) {
    case 'u8':
      return { tag: spec.tag, value: new Uint8Array([value as number]) };
    case 'flag':
      return { tag: spec.tag, value: new Uint8Array([value ? 1 : 0]) };
    case 'u32': {
      const bytes = new Uint8Array(4);
      new DataView(bytes.buffer).setUint32(0, value as number);
      return { tag: spec.tag, value: bytes };
    }
    case 'text':
    case 'bytes': {
      const bytes = spec.type === 'text' ? utf8(value as string) : (value as Uint8Array);
      if (bytes.length < (spec.min ?? 0) || bytes.length > (spec.max ?? Infinity)) {
        throw new RangeError(`field ${name} must be ${spec.min ?? 0}–${spec.max} bytes, got ${bytes.length}`);
      }
      return { tag: spec.tag, value: bytes };
    }
  }
}

export function encodeRequest(request: Request): Uint8Array {
  const fields: RawField[] = [encodeValue('op', Op[request.op]), encodeValue('requestId', request.requestId)];
  for (const [key, value] of Object.entries(request)) {
    if (key === 'op' || key === 'requestId' || value === undefined) continue;
    if (key === 'discardState' || key === 'lockScreen') {
      if (value)
        fields.push(encodeValue('flags', key === 'discardState' ? RESET_FLAG_DISCARD_STATE : STATUS_FLAG_LOCK_SCREEN));
      continue;
    }
    fields.push(encodeValue(key as FieldName, value as Value));
  }
  return encodeFrame(FrameKind.request, fields, MAX_REQUEST_BODY);
}

export function encodeReply(reply: Reply): Uint8Array {
  const fields: RawField[] = [
    encodeValue('requestId', reply.requestId),
    encodeValue('status', ReplyStatus[reply.status]),
  ];
  for (const name of REPLY_FIELDS) {
    if (name === 'requestId' || name === 'status') continue;
    const value = reply[name as keyof Reply];
    if (value !== undefined) fields.push(encodeValue(name, value as Value));
  }
  return encodeFrame(FrameKind.reply, fields, MAX_REPLY_BODY);
}

/**
 * Decodes a reply body. Fails closed: an unknown status becomes `error`, an unknown reason
 * becomes `internal-error`; malformed fields throw.
 */
export function decodeReplyBody(body: Uint8Array): Reply {
  const values = decodeKnownFields(splitFields(body), new Set(REPLY_FIELDS), 'a reply');
  const statusCode = values.get('status');
  if (statusCode === undefined || !values.has('requestId')) {
    throw new ProtocolError('missing-field', 'a reply needs the fields requestId and status');
  }
  const reply: Reply = {
    requestId: values.get('requestId') as number,
    status: STATUS_NAMES[statusCode as number] ?? 'error',
  };
  for (const name of REPLY_FIELDS) {
    if (name === 'requestId' || name === 'status' || !values.has(name)) continue;
    (reply as unknown as Record<string, Value>)[name] = values.get(name)!;
  }
  if (reply.status === 'error' && STATUS_NAMES[statusCode as number] === undefined) reply.reason = 'internal-error';
  if (reply.reason !== undefined && !REASON_SET.has(reply.reason)) reply.reason = 'internal-error';
  return reply;
}
