/**
 * A PAM transaction through koffi (libpam.so.0): authenticate, then account management.
 * Runs only inside the password-check child process, where a module that sleeps, blocks or
 * crashes cannot hurt the agent.
 *
 * Memory ownership (pam_conv(3)): the conversation function returns an array of responses and
 * each `resp` string allocated with malloc; PAM frees them (Linux-PAM overwrites them first).
 */
import { SystemError } from '../system-error.js';
import { loadKoffi, useLibc, type Koffi, type Libc } from './libc.js';

export type PamOutcome = { result: 'ok' } | { result: 'rejected' | 'failed'; reason: string };

// Linux-PAM's _pam_types.h.
const PAM_SUCCESS = 0;
const PAM_PERM_DENIED = 6;
const PAM_AUTH_ERR = 7;
const PAM_USER_UNKNOWN = 10;
const PAM_MAXTRIES = 11;
const PAM_NEW_AUTHTOK_REQD = 12;
const PAM_ACCT_EXPIRED = 13;
const PAM_CONV_ERR = 19;
const PAM_SILENT = 0x8000;
const PAM_DISALLOW_NULL_AUTHTOK = 0x0001;
const PAM_PROMPT_ECHO_OFF = 1;
const PAM_ERROR_MSG = 3;
const PAM_TEXT_INFO = 4;
const PAM_MAX_NUM_MSG = 32;

/** Answers that mean "this user may not get in with this password", as opposed to a fault. */
const AUTH_REJECTIONS = new Set([PAM_AUTH_ERR, PAM_USER_UNKNOWN, PAM_MAXTRIES, PAM_PERM_DENIED]);
const ACCOUNT_REJECTIONS = new Set([
  PAM_AUTH_ERR,
  PAM_USER_UNKNOWN,
  PAM_PERM_DENIED,
  PAM_ACCT_EXPIRED,
  PAM_NEW_AUTHTOK_REQD,
]);

// biome-ignore lint/suspicious/noExplicitAny: koffi functions take and return whatever their C declaration says; each use below is typed at its call
type Native = (...args: any[]) => any;

interface Pam {
  koffi: Koffi;
  responseSize: number;
  message: ReturnType<Koffi['struct']>;
  response: ReturnType<Koffi['struct']>;
  conversationCallback: ReturnType<Koffi['pointer']>;
  start: Native;
  authenticate: Native;
  acctMgmt: Native;
  end: Native;
  strerror: Native;
}

function bindPam(): Pam {
  const koffi = loadKoffi();
  let lib: ReturnType<Koffi['load']>;
  try {
    lib = koffi.load('libpam.so.0');
  } catch (error) {
    throw new SystemError('pam-unavailable', `cannot load libpam.so.0: ${(error as Error).message}`, { cause: error });
  }
  // struct pam_message { int msg_style; const char *msg; }
  const message = koffi.struct({ msg_style: 'int', msg: 'char *' });
  // struct pam_response { char *resp; int resp_retcode; } — resp as void *: we fill it with malloc'd memory.
  const response = koffi.struct({ resp: 'void *', resp_retcode: 'int' });
  // int conv(int num_msg, const struct pam_message **msg, struct pam_response **resp, void *appdata_ptr)
  const conversation = koffi.proto('int', ['int', 'void *', 'void *', 'void *']);
  // struct pam_conv { conv *conv; void *appdata_ptr; } — pam_start copies it.
  const conv = koffi.struct({ conv: koffi.pointer(conversation), appdata_ptr: 'void *' });
  return {
    koffi,
    responseSize: koffi.sizeof(response),
    message,
    response,
    conversationCallback: koffi.pointer(conversation),
    start: lib.func('pam_start', 'int', ['str', 'str', koffi.pointer(conv), koffi.out(koffi.pointer('void *'))]),
    authenticate: lib.func('pam_authenticate', 'int', ['void *', 'int']),
    acctMgmt: lib.func('pam_acct_mgmt', 'int', ['void *', 'int']),
    end: lib.func('pam_end', 'int', ['void *', 'int']),
    strerror: lib.func('pam_strerror', 'str', ['void *', 'int']),
  };
}

export function authenticateWithPam(service: string, user: string, password: Uint8Array): PamOutcome {
  const libc = useLibc('pam-unavailable');
  const pam = bindPam();
  const callback = pam.koffi.register(conversation(pam, libc, password), pam.conversationCallback);
  try {
    const handle: [unknown] = [null];
    const started = pam.start(service, user, { conv: callback, appdata_ptr: null }, handle);
    if (started !== PAM_SUCCESS || handle[0] === null)
      return { result: 'failed', reason: `pam_start: error ${started}` };
    let status = PAM_CONV_ERR;
    try {
      status = pam.authenticate(handle[0], PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
      if (status !== PAM_SUCCESS) return outcome(pam, handle[0], 'pam_authenticate', status, AUTH_REJECTIONS);
      status = pam.acctMgmt(handle[0], PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
      if (status !== PAM_SUCCESS) return outcome(pam, handle[0], 'pam_acct_mgmt', status, ACCOUNT_REJECTIONS);
      return { result: 'ok' };
    } finally {
      pam.end(handle[0], status);
    }
  } finally {
    pam.koffi.unregister(callback);
  }
}

function outcome(pam: Pam, handle: unknown, step: string, status: number, rejections: Set<number>): PamOutcome {
  const reason = `${step}: ${String(pam.strerror(handle, status))}`;
  return { result: rejections.has(status) ? 'rejected' : 'failed', reason };
}

/**
 * Answers echo-off prompts with the password, ignores informational messages, and refuses
 * anything else (an echo-on prompt would ask for something we do not have). It must never
 * throw: koffi would return 0 — PAM_SUCCESS — to PAM with *resp unset, skip later callbacks
 * and only rethrow once pam_authenticate returns.
 */
function conversation(pam: Pam, libc: Libc, password: Uint8Array) {
  const { koffi, responseSize } = pam;
  return (count: number, messages: unknown, responsesOut: unknown): number => {
    let responses: bigint | null = null;
    const strings: Array<{ pointer: bigint; size: number }> = [];
    try {
      if (!Number.isInteger(count) || count < 1 || count > PAM_MAX_NUM_MSG) return PAM_CONV_ERR;
      responses = libc.calloc(count, responseSize);
      if (responses === null) return PAM_CONV_ERR;
      // Linux-PAM passes an array of pointers to messages (not a pointer to an array).
      const pointers = koffi.decode(messages, 'void *', count) as unknown[];
      for (let i = 0; i < count; i++) {
        const { msg_style: style } = koffi.decode(pointers[i], pam.message) as { msg_style: number };
        if (style === PAM_ERROR_MSG || style === PAM_TEXT_INFO) continue;
        if (style !== PAM_PROMPT_ECHO_OFF) throw new Error('unsupported prompt');
        const size = password.length + 1;
        const pointer = libc.malloc(size);
        if (pointer === null) throw new Error('out of memory');
        strings.push({ pointer, size });
        const copy = new Uint8Array(koffi.view(pointer, size));
        copy.set(password);
        copy[password.length] = 0;
        koffi.encode(responses, i * responseSize, pam.response, { resp: pointer, resp_retcode: 0 });
      }
      koffi.encode(responsesOut, 'void *', responses);
      return PAM_SUCCESS;
    } catch {
      for (const { pointer, size } of strings) {
        new Uint8Array(koffi.view(pointer, size)).fill(0);
        libc.free(pointer);
      }
      if (responses !== null) libc.free(responses);
      return PAM_CONV_ERR;
    }
  };
}
