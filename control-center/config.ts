/**
 * The Control Center's one config loader (docs/configuration.md "Control Center"): the JSON
 * file (`--config`, default /etc/latchkey/control-center.json; missing there means "no file"),
 * then command-line flags over it. Same rules as the agent's loader (agent/config.ts): a file
 * someone else could have written is refused, and so is an unknown key; errors are the
 * agent's ConfigError, with the same codes.
 */
import path from 'node:path';
import * as v from 'valibot';
import { ConfigError } from '../platform/config-error.js';
import { describeIssues } from '../platform/schema-errors.js';
import { JsonFileError, readJsonFile, SETTINGS_FILE_RULE } from '../platform/json-file.js';
import { intRange } from '../protocol/policy-settings.js';
import type { RateLimits } from './http/rate-limit.js';

export const DEFAULT_CC_CONFIG_FILE = '/etc/latchkey/control-center.json';
export const MAX_CC_CONFIG_BYTES = 64 * 1024;
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type CcLogLevel = (typeof LOG_LEVELS)[number];

const LISTEN = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/;
const LISTEN_RULE = 'must be HOST:PORT, such as 127.0.0.1:8080 or [::1]:8080';
const MAX_TRUSTED_PROXIES = 64;
const MAX_PER_MINUTE = 1_000_000;

/** `HOST:PORT` → host and port, or null when it is not one. */
export function parseListenAddress(value: string): { host: string; port: number } | null {
  const match = LISTEN.exec(value);
  const port = match ? Number(match[3]) : NaN;
  return match && port <= 65535 ? { host: match[1] ?? match[2]!, port } : null;
}

const absolutePath = v.pipe(
  v.string('must be an absolute path'),
  v.check((value) => path.isAbsolute(value) && !value.includes('\0'), 'must be an absolute path'),
);
const perMinute = v.optional(intRange(1, MAX_PER_MINUTE));

const CcConfigFileSchema = v.strictObject(
  {
    database: v.optional(absolutePath),
    listen: v.optional(
      v.pipe(
        v.string(LISTEN_RULE),
        v.check((value) => parseListenAddress(value) !== null, LISTEN_RULE),
      ),
    ),
    tls: v.optional(v.strictObject({ cert: absolutePath, key: absolutePath }, 'must be an object with cert and key')),
    trustProxy: v.optional(
      v.pipe(
        v.array(
          v.pipe(
            v.string('must be an address or CIDR'),
            v.regex(/^[0-9A-Fa-f:./]{2,64}$/, 'must be an address or CIDR'),
          ),
          'must be a list of addresses or CIDRs',
        ),
        v.maxLength(MAX_TRUSTED_PROXIES, `must list at most ${MAX_TRUSTED_PROXIES} entries`),
      ),
    ),
    rateLimits: v.optional(
      v.strictObject(
        { enroll: perMinute, redeem: perMinute, failures: perMinute, perKey: perMinute },
        'must be an object',
      ),
    ),
    firstAdminTokenFile: v.optional(absolutePath),
    logLevel: v.optional(v.picklist(LOG_LEVELS, 'must be "debug", "info", "warn" or "error"')),
  },
  'must be a JSON object',
);
export type CcConfigFile = v.InferOutput<typeof CcConfigFileSchema>;

export interface CcConfig {
  readonly database: string | undefined;
  readonly listen: { readonly host: string; readonly port: number } | undefined;
  readonly tls: { readonly cert: string; readonly key: string } | undefined;
  readonly trustProxy: readonly string[] | undefined;
  readonly rateLimits: Partial<RateLimits>;
  /** Where the first admin token goes at the first start (standard output when unset). */
  readonly firstAdminTokenFile: string | undefined;
  readonly logLevel: CcLogLevel;
  /** The file the settings came from, or null when there was none. */
  readonly source: string | null;
}

/** The file's settings with command-line values (already checked by the CLI) over them. Pure. */
export function resolveCcConfig(json: unknown, source: string | null, flags: Partial<CcConfigFile> = {}): CcConfig {
  const parsed = v.safeParse(CcConfigFileSchema, json ?? {});
  if (!parsed.success)
    throw new ConfigError('config-invalid', `${source ?? 'the configuration'}: ${describeIssues(parsed.issues, '')}`);
  const merged = {
    ...parsed.output,
    ...Object.fromEntries(Object.entries(flags).filter(([, value]) => value !== undefined)),
  } as CcConfigFile;
  const limits = merged.rateLimits ?? {};
  return {
    database: merged.database,
    listen: merged.listen === undefined ? undefined : parseListenAddress(merged.listen)!,
    tls: merged.tls,
    trustProxy: merged.trustProxy,
    rateLimits: {
      ...(limits.enroll && { enrollPerMinute: limits.enroll }),
      ...(limits.redeem && { redeemPerMinute: limits.redeem }),
      ...(limits.failures && { failuresPerMinute: limits.failures }),
      ...(limits.perKey && { perKeyPerMinute: limits.perKey }),
    },
    firstAdminTokenFile: merged.firstAdminTokenFile,
    logLevel: merged.logLevel ?? 'info',
    source,
  };
}

/** Loads `file` (undefined: the default path, where a missing file means "no file"). */
export async function loadCcConfig(file: string | undefined, flags: Partial<CcConfigFile> = {}): Promise<CcConfig> {
  const target = file ?? DEFAULT_CC_CONFIG_FILE;
  let json: CcConfigFile;
  try {
    json = await readJsonFile(target, CcConfigFileSchema, SETTINGS_FILE_RULE, MAX_CC_CONFIG_BYTES);
  } catch (error) {
    if (!(error instanceof JsonFileError)) throw error;
    if (error.problem === 'missing' && file === undefined) return resolveCcConfig(undefined, null, flags);
    if (error.problem === 'missing')
      throw new ConfigError('config-missing', `config file ${target} does not exist`, { cause: error });
    // As resolveCcConfig words it: the values a person wrote are theirs to see.
    if (error.problem === 'invalid')
      throw new ConfigError('config-invalid', `${target}: ${describeIssues(error.issues, '')}`, { cause: error });
    throw new ConfigError(error.problem === 'insecure' ? 'config-insecure' : 'config-invalid', error.message, {
      cause: error,
    });
  }
  return resolveCcConfig(json, target, flags);
}
