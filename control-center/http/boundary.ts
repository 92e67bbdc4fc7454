/**
 * The HTTP trust boundary (STYLE.md §4): bodies arrive as raw bytes (≤ 64 KiB, kept for the
 * request signature), are parsed as JSON and validated with one schema each; query strings
 * and path parameters too. Every failure is a CcError whose message names the field and never
 * echoes the value that was sent.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as v from 'valibot';
import type { Logger } from '../../platform/log.js';
import { parseJsonBytes } from '../../protocol/json-bytes.js';
import { MAX_WAIT_SECONDS } from '../../protocol/online/http-bodies.js';
import { describeIssues } from '../../protocol/schema-issues.js';
import { CcError } from '../errors.js';

const JSON_TYPE = /^application\/json\s*(;\s*charset=utf-8\s*)?$/i;

/** The body as received (empty for a request without one): what the signature covers. */
export function rawBody(request: FastifyRequest): Uint8Array {
  return request.body instanceof Buffer ? request.body : new Uint8Array();
}

export function readBody<S extends v.GenericSchema>(request: FastifyRequest, schema: S): v.InferOutput<S> {
  const bytes = rawBody(request);
  if (bytes.length === 0) throw new CcError('bad-request', 'The request has no body; send a JSON object.');
  const type = request.headers['content-type'];
  if (typeof type !== 'string' || !JSON_TYPE.test(type))
    throw new CcError('bad-request', 'The body must be sent as application/json.');
  const json = parseJsonBytes(bytes);
  if (!json.ok) throw new CcError('bad-request', 'The body is not valid JSON.');
  if (json.value === null || typeof json.value !== 'object' || Array.isArray(json.value))
    throw new CcError('bad-request', 'The body must be a JSON object.');
  const parsed = v.safeParse(schema, json.value, { abortEarly: false });
  if (!parsed.success) throw new CcError('bad-request', describeIssues(parsed.issues));
  return parsed.output;
}

/** Validates the query string (one value per name: repeated names are refused). */
export function readQuery<S extends v.GenericSchema>(request: FastifyRequest, schema: S): v.InferOutput<S> {
  const parsed = v.safeParse(schema, request.query ?? {}, { abortEarly: false });
  if (!parsed.success)
    throw new CcError('bad-request', describeIssues(parsed.issues, 'the query').replace(/^/, 'Query: '));
  return parsed.output;
}

export function readParam(request: FastifyRequest, name: string, schema: v.GenericSchema<string, string>): string {
  const value = (request.params as Record<string, string | undefined>)[name];
  const parsed = v.safeParse(schema, value);
  if (!parsed.success)
    throw new CcError('bad-request', `The path parameter ${name} is malformed: ${describeIssues(parsed.issues, name)}`);
  return parsed.output;
}

/** `wait`: whole seconds, 0–30 (docs/online-protocol.md "Long-poll"). */
export const waitSeconds = v.optional(
  v.pipe(
    v.string(),
    v.regex(/^\d{1,2}$/, `must be whole seconds from 0 to ${MAX_WAIT_SECONDS}`),
    v.transform(Number),
    v.maxValue(MAX_WAIT_SECONDS, `must be at most ${MAX_WAIT_SECONDS}`),
  ),
  '0',
);
export const WaitQuery = v.strictObject({ wait: waitSeconds });
export const NoQuery = v.strictObject({});

/** Counts and limits in query strings: whole numbers in a range. */
export function queryInteger(min: number, max: number, fallback: number) {
  return v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,9}$/, `must be a whole number from ${min} to ${max}`),
      v.transform(Number),
      v.minValue(min, `must be from ${min} to ${max}`),
      v.maxValue(max, `must be from ${min} to ${max}`),
    ),
    String(fallback),
  );
}

export function sendError(reply: FastifyReply, error: CcError): void {
  if (error.retryAfterSeconds !== undefined) void reply.header('retry-after', String(error.retryAfterSeconds));
  void reply.code(error.status).send({ error: { code: error.code, message: error.message } });
}

/** Raw-bytes body parsing, the 64 KiB limit, and one error shape for everything that fails. */
export function installBoundary(app: FastifyInstance, log: Logger): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, new CcError('not-found', `There is no ${request.method} ${request.url.split('?')[0]}.`)),
  );
  app.setErrorHandler((error, request, reply) => {
    if (error instanceof CcError) return sendError(reply, error);
    const fastifyError = error as { code?: string; statusCode?: number };
    if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || fastifyError.statusCode === 413) {
      return sendError(reply, new CcError('body-too-large', 'The body is larger than 64 KiB.'));
    }
    if (
      typeof fastifyError.statusCode === 'number' &&
      fastifyError.statusCode >= 400 &&
      fastifyError.statusCode < 500
    ) {
      return sendError(reply, new CcError('bad-request', 'The request is malformed.'));
    }
    log.error('control-center.fault', { method: request.method, route: request.routeOptions.url ?? 'unknown', error });
    return sendError(reply, new CcError('internal', 'The Control Center failed to answer; the fault is in its log.'));
  });
}
