/** `latchkey control-center`: run the Control Center server in the foreground (docs/control-center.md). */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { describeFileError, isSystemCallError } from '../../platform/file-errors.js';
import { createLogger } from '../../platform/log.js';
import type { RateLimits } from '../../control-center/http/rate-limit.js';
import { DEFAULT_CC_CONFIG_FILE, LOG_LEVELS, loadCcConfig, parseListenAddress } from '../../control-center/config.js';
import type { CcConfig } from '../../control-center/config.js';
import { ConfigError } from '../../platform/config-error.js';
import { CliError, EXIT } from '../../platform/exit-codes.js';
import { EXIT_CONFIG } from './agent.js';
import type { RunningControlCenter } from '../../control-center/control-center.js';
import { untilStopped } from '../until-stopped.js';

export function parseListen(value: string): { host: string; port: number } {
  const address = parseListenAddress(value);
  if (!address) throw new CliError('--listen must be HOST:PORT, such as 127.0.0.1:8080 or [::1]:8080', EXIT.usage);
  return address;
}

function readPem(file: string, option: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new CliError(`${option}: ${describeFileError(error, file)}`);
  }
}

/** The certificate and key, checked now: OpenSSL's own words ("PEM routines::no start line") name neither file. */
export function readTls(
  certFile: string,
  keyFile: string,
  names = { cert: '--tls-cert', key: '--tls-key' },
): { cert: Buffer; key: Buffer } {
  const cert = readPem(certFile, names.cert);
  const key = readPem(keyFile, names.key);
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch {
    throw new CliError(
      `${names.cert} ${certFile} is not a PEM certificate (it starts with -----BEGIN CERTIFICATE-----)`,
    );
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new CliError(`${names.key} ${keyFile} is not an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----)`);
  }
  if (!certificate.checkPrivateKey(privateKey))
    throw new CliError(
      `${names.key} ${keyFile} is not the private key of the certificate in ${names.cert} ${certFile}`,
    );
  return { cert, key };
}

const RATE_NAMES: Record<string, keyof RateLimits> = {
  enroll: 'enrollPerMinute',
  redeem: 'redeemPerMinute',
  failures: 'failuresPerMinute',
  'per-key': 'perKeyPerMinute',
};

/** `--rate-limit enroll=100,per-key=1200`: per-minute budgets (docs/control-center.md "Limits and rate limits"). */
export function parseRateLimits(value: string): Partial<RateLimits> {
  const out: Partial<Record<keyof RateLimits, number>> = {};
  for (const entry of value.split(',')) {
    const match = /^\s*([a-z-]+)=(\d{1,9})\s*$/.exec(entry);
    const name = match ? RATE_NAMES[match[1]!] : undefined;
    if (!match || !name || Number(match[2]) < 1)
      throw new CliError(
        '--rate-limit takes NAME=N[,NAME=N…] with NAME enroll, redeem, failures or per-key and N ≥ 1 (a minute)',
        EXIT.usage,
      );
    out[name] = Number(match[2]);
  }
  return out;
}

/** Which option to change for each kind of start failure (docs/control-center.md "Running it"). */
const OPTION_OF: Partial<Record<string, string>> = {
  'database-unreadable': '--db',
  'database-newer': '--db',
  'listen-failed': '--listen',
};

async function startFailure(error: unknown, what = 'the Control Center could not start'): Promise<CliError> {
  const { StartupError } = await import('../../control-center/errors.js');
  if (!(error instanceof StartupError))
    return new CliError(
      `${what}: ${isSystemCallError(error) && error.path ? describeFileError(error) : (error as Error).message}`,
    );
  const option = OPTION_OF[error.code];
  return new CliError(`${what} (${error.code}): ${error.message}${option ? ` (check ${option})` : ''}`);
}

/** The first admin token's line into a new 0600 file (config `firstAdminTokenFile`), durably, never to a log. */
function writeSecretLineTo(file: string): (line: string) => void {
  return (line) => {
    const temp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}`);
    const fd = openSync(temp, 'wx', 0o600);
    try {
      writeSync(fd, `${line}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      renameSync(temp, file);
    } catch (error) {
      unlinkSync(temp);
      throw error;
    }
  };
}

async function loadConfig(options: Options): Promise<CcConfig> {
  if (options.listen !== undefined) parseListen(options.listen);
  try {
    return await loadCcConfig(options.config, {
      database: options.db,
      listen: options.listen,
      logLevel: options.logLevel as CcConfig['logLevel'] | undefined,
      trustProxy: options.trustProxy
        ?.split(',')
        .map((entry) => entry.trim())
        .filter((entry) => entry !== ''),
      ...(options.tlsCert !== undefined &&
        options.tlsKey !== undefined && { tls: { cert: options.tlsCert, key: options.tlsKey } }),
    });
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message, EXIT_CONFIG);
    throw error;
  }
}

interface Options {
  config?: string;
  db?: string;
  listen?: string;
  tlsCert?: string;
  tlsKey?: string;
  trustProxy?: string;
  createAdminToken?: string;
  rateLimit?: string;
  logLevel?: string;
}

export function registerControlCenter(program: Command): void {
  program
    .command('control-center')
    .description('run the Control Center server in the foreground (stops on SIGINT/SIGTERM)')
    .option(
      '--config <file>',
      `config file (default ${DEFAULT_CC_CONFIG_FILE}, if it exists); the flags below override it`,
    )
    .option('--db <file>', 'the SQLite database (created at the first start, with <file>.keys next to it)')
    .option('--listen <host:port>', 'address to listen on, such as 127.0.0.1:8080 or 0.0.0.0:8443')
    .option('--tls-cert <file>', 'PEM certificate chain: serve HTTPS (with --tls-key)')
    .option('--tls-key <file>', 'PEM private key of --tls-cert')
    .option(
      '--trust-proxy <list>',
      'comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-For is believed',
    )
    .option(
      '--rate-limit <list>',
      'per-minute budgets, such as enroll=100,per-key=1200 (defaults: enroll=10, redeem=10, failures=30, per-key=600)',
    )
    .option('--create-admin-token <name>', 'create one more admin token, print it once, and exit')
    .option('--log-level <level>', 'debug, info, warn or error (default info)')
    .action(async (options: Options) => {
      if (options.logLevel !== undefined && !(LOG_LEVELS as readonly string[]).includes(options.logLevel))
        throw new CliError('--log-level must be debug, info, warn or error', EXIT.usage);
      if ((options.tlsCert === undefined) !== (options.tlsKey === undefined))
        throw new CliError('--tls-cert and --tls-key go together', EXIT.usage);
      const config = await loadConfig(options);
      if (config.database === undefined)
        throw new CliError(
          `--db FILE is required (or "database" in ${config.source ?? DEFAULT_CC_CONFIG_FILE})`,
          EXIT.usage,
        );
      if (options.createAdminToken !== undefined) {
        // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what this pattern is for
        if (!/^[^\u0000-\u001f\u007f]{1,128}$/.test(options.createAdminToken))
          throw new CliError('--create-admin-token needs a name of 1–128 printable characters', EXIT.usage);
        try {
          const { createAdminTokenOffline } = await import('../../control-center/control-center.js');
          return await createAdminTokenOffline(config.database, options.createAdminToken);
        } catch (error) {
          throw await startFailure(error, 'no admin token was created');
        }
      }
      if (config.listen === undefined)
        throw new CliError(
          `--listen HOST:PORT is required (or "listen" in ${config.source ?? DEFAULT_CC_CONFIG_FILE})`,
          EXIT.usage,
        );
      const { host, port } = config.listen;
      const fromFlags = options.tlsCert !== undefined;
      const tls = config.tls
        ? readTls(
            config.tls.cert,
            config.tls.key,
            fromFlags ? { cert: '--tls-cert', key: '--tls-key' } : { cert: 'tls.cert', key: 'tls.key' },
          )
        : undefined;
      const trustProxy = config.trustProxy;
      const rateLimits = {
        ...config.rateLimits,
        ...(options.rateLimit === undefined ? {} : parseRateLimits(options.rateLimit)),
      };
      const log = createLogger({ level: config.logLevel });
      const printSecretLine =
        config.firstAdminTokenFile === undefined ? undefined : writeSecretLineTo(config.firstAdminTokenFile);
      let server: RunningControlCenter;
      try {
        // The server (Fastify, SQLite) loads only for this command.
        const { startControlCenter } = await import('../../control-center/control-center.js');
        server = await startControlCenter({
          databaseFile: config.database,
          host,
          port,
          ...(tls ? { tls } : {}),
          ...(trustProxy ? { trustProxy } : {}),
          rateLimits,
          log,
          ...(printSecretLine && { printSecretLine }),
        });
      } catch (error) {
        throw await startFailure(error);
      }
      await untilStopped(log, 'control-center.stopping');
      await server.close();
    });
}
