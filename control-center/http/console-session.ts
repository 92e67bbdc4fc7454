/**
 * Console sessions (docs/console.md "Sign-in, sessions and CSRF"): an admin token exchanged for
 * an HttpOnly, SameSite=Strict cookie; a CSRF token per session for every change; idle expiry,
 * an absolute lifetime and sign-out. Sessions live in memory: one process serves a database.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { toBase64url } from '../../protocol/online/base64url.js';
import { newId } from '../../protocol/online/ids.js';
import { CcError } from '../errors.js';
import { tokenDigest } from '../secrets.js';
import type { AdminToken } from '../storage/records.js';
import { equalBytes, randomBytes } from '../../protocol/crypto/hashes.js';
import { utf8 } from '../../protocol/bytes.js';

export const CONSOLE_IDLE_MS = 15 * 60_000;
export const CONSOLE_LIFETIME_MS = 12 * 60 * 60_000;
export const MAX_SESSIONS_PER_TOKEN = 10;
export const MAX_SESSIONS = 1000;
export const CSRF_HEADER = 'latchkey-csrf';
const COOKIE = 'latchkey_console';
const SECURE_COOKIE = '__Host-latchkey_console';
const SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export interface ConsoleSession {
  /** `cs_…`: the public name of the session in the audit log. */
  readonly id: string;
  readonly csrfToken: string;
  readonly token: AdminToken;
  /** SHA-256 of the admin token, to notice its revocation at every request. */
  readonly tokenSha256: string;
  readonly createdAt: number;
  lastUsedAt: number;
}

export type SessionLookup =
  | { readonly ok: true; readonly session: ConsoleSession }
  | { readonly ok: false; readonly code: 'unknown' }
  | {
      readonly ok: false;
      readonly code: 'expired';
      readonly session: ConsoleSession;
      readonly reason: 'idle' | 'lifetime';
    };

export class ConsoleSessions {
  /** By the SHA-256 of the cookie secret; a Map keeps insertion order, so the first entry is the oldest. */
  readonly #sessions = new Map<string, ConsoleSession>();

  constructor(private readonly now: () => number) {}

  /** A new session; answers the cookie secret (never stored) and the session. */
  async create(
    token: AdminToken,
    tokenSha256: string,
  ): Promise<{ secret: string; session: ConsoleSession; ended: ConsoleSession[] }> {
    const secret = toBase64url(randomBytes(32));
    const now = this.now();
    const session: ConsoleSession = {
      id: newId('cs'),
      csrfToken: toBase64url(randomBytes(32)),
      token,
      tokenSha256,
      createdAt: now,
      lastUsedAt: now,
    };
    const ended: ConsoleSession[] = [];
    const mine = [...this.#sessions].filter(([, s]) => s.token.id === token.id);
    for (const [key, old] of mine.slice(0, Math.max(0, mine.length - MAX_SESSIONS_PER_TOKEN + 1)))
      ended.push(this.#drop(key, old));
    while (this.#sessions.size >= MAX_SESSIONS) {
      const [key, old] = this.#sessions.entries().next().value as [string, ConsoleSession];
      ended.push(this.#drop(key, old));
    }
    this.#sessions.set(await tokenDigest(secret), session);
    return { secret, session, ended };
  }

  /** Finds the session of a cookie secret and counts this request as activity; an expired one is dropped. */
  async lookup(secret: string): Promise<SessionLookup> {
    if (!SECRET_PATTERN.test(secret)) return { ok: false, code: 'unknown' };
    const key = await tokenDigest(secret);
    const session = this.#sessions.get(key);
    if (!session) return { ok: false, code: 'unknown' };
    const now = this.now();
    const reason =
      now - session.createdAt >= CONSOLE_LIFETIME_MS
        ? 'lifetime'
        : now - session.lastUsedAt >= CONSOLE_IDLE_MS
          ? 'idle'
          : null;
    if (reason !== null) {
      this.#sessions.delete(key);
      return { ok: false, code: 'expired', session, reason };
    }
    session.lastUsedAt = now;
    return { ok: true, session };
  }

  get(id: string): ConsoleSession | null {
    for (const session of this.#sessions.values()) if (session.id === id) return session;
    return null;
  }

  end(id: string): void {
    for (const [key, session] of this.#sessions) if (session.id === id) this.#sessions.delete(key);
  }

  /** When the session ends if nothing else happens: the idle limit or the lifetime, whichever is first. */
  expiresAt(session: ConsoleSession): number {
    return Math.min(session.lastUsedAt + CONSOLE_IDLE_MS, session.createdAt + CONSOLE_LIFETIME_MS);
  }

  #drop(key: string, session: ConsoleSession): ConsoleSession {
    this.#sessions.delete(key);
    return session;
  }
}

const secure = (request: FastifyRequest) => request.protocol === 'https';

/** The session cookie's value, or null; the name depends on whether the request came over HTTPS. */
export function sessionCookie(request: FastifyRequest): string | null {
  const header = request.headers.cookie;
  if (typeof header !== 'string') return null;
  const name = secure(request) ? SECURE_COOKIE : COOKIE;
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return null;
}

export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, secret: string): void {
  const flags = secure(request) ? '; Secure' : '';
  void reply.header(
    'set-cookie',
    `${secure(request) ? SECURE_COOKIE : COOKIE}=${secret}; Path=/; HttpOnly; SameSite=Strict${flags}`,
  );
}

export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
  const flags = secure(request) ? '; Secure' : '';
  void reply.header(
    'set-cookie',
    `${secure(request) ? SECURE_COOKIE : COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${flags}`,
  );
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The CSRF rule for a request authenticated by the cookie: reads pass; a change must carry
 * this session's token in Latchkey-CSRF and, when it names an Origin, come from this origin.
 * Answers the refusal, or null.
 */
export function csrfRefusal(request: FastifyRequest, session: ConsoleSession): CcError | null {
  if (SAFE_METHODS.has(request.method)) return null;
  const origin = request.headers.origin;
  if (typeof origin === 'string' && origin !== `${request.protocol}://${request.host}`) {
    return new CcError('forbidden', 'This change came from another site; use the console at this address.');
  }
  const sent = request.headers[CSRF_HEADER];
  if (typeof sent !== 'string' || !equalBytes(utf8(sent), utf8(session.csrfToken))) {
    return new CcError(
      'forbidden',
      "This change did not carry the console's CSRF token; reload the console and try again.",
    );
  }
  return null;
}
