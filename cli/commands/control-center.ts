/** `latchkey control-center`: run the Control Center server in the foreground (docs/control-center.md). */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describeFileError, isSystemCallError } from '../../agent/file-errors.js';
import type { Command } from 'commander';
import { createLogger, type LogLevel } from '../../agent/log.js';
import type { RateLimits } from '../../control-center/http/rate-limit.js';
import { CliError, EXIT } from '../exit-codes.js';

const LISTEN = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/;

export function parseListen(value: string): { host: string; port: number } {
  const match = LISTEN.exec(value);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) throw new CliError('--listen must be HOST:PORT, such as 127.0.0.1:8080 or [::1]:8080', EXIT.usage);
  return { host: match[1] ?? match[2]!, port };
}

function readPem(file: string, option: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new CliError(`${option}: ${describeFileError(error, file)}`);
  }
}

/** The certificate and key, checked now: OpenSSL's own words ("PEM routines::no start line") name neither file. */
export function readTls(certFile: string, keyFile: string): { cert: Buffer; key: Buffer } {
  const cert = readPem(certFile, '--tls-cert');
  const key = readPem(keyFile, '--tls-key');
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch {
    throw new CliError(`--tls-cert ${certFile} is not a PEM certificate (it starts with -----BEGIN CERTIFICATE-----)`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new CliError(`--tls-key ${keyFile} is not an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----)`);
  }
  if (!certificate.checkPrivateKey(privateKey)) throw new CliError(`--tls-key ${keyFile} is not the private key of the certificate in --tls-cert ${certFile}`);
  return { cert, key };
}

const RATE_NAMES: Record<string, keyof RateLimits> = { enroll: 'enrollPerMinute', redeem: 'redeemPerMinute', failures: 'failuresPerMinute', 'per-key': 'perKeyPerMinute' };

/** `--rate-limit enroll=100,per-key=1200`: per-minute budgets (docs/control-center.md "Limits and rate limits"). */
export function parseRateLimits(value: string): Partial<RateLimits> {
  const out: Partial<Record<keyof RateLimits, number>> = {};
  for (const entry of value.split(',')) {
    const match = /^\s*([a-z-]+)=(\d{1,9})\s*$/.exec(entry);
    const name = match ? RATE_NAMES[match[1]!] : undefined;
    if (!match || !name || Number(match[2]) < 1) throw new CliError('--rate-limit takes NAME=N[,NAME=N…] with NAME enroll, redeem, failures or per-key and N ≥ 1 (a minute)', EXIT.usage);
    out[name] = Number(match[2]);
  }
  return out;
}

/** Which option to change for each kind of start failure (docs/control-center.md "Running it"). */
const OPTION_OF: Partial<Record<string, string>> = { 'database-unreadable': '--db', 'database-newer': '--db', 'listen-failed': '--listen' };

async function startFailure(error: unknown, what = 'the Control Center could not start'): Promise<CliError> {
  const { StartupError } = await import('../../control-center/errors.js');
  if (!(error instanceof StartupError)) return new CliError(`${what}: ${isSystemCallError(error) && error.path ? describeFileError(error) : (error as Error).message}`);
  const option = OPTION_OF[error.code];
  return new CliError(`${what} (${error.code}): ${error.message}${option ? ` (check ${option})` : ''}`);
}

interface Options {
  db: string;
  listen?: string;
  tlsCert?: string;
  tlsKey?: string;
  trustProxy?: string;
  createAdminToken?: string;
  rateLimit?: string;
  logLevel: string;
}

export function registerControlCenter(program: Command): void {
  program
    .command('control-center')
    .description('run the Control Center server in the foreground (stops on SIGINT/SIGTERM)')
    .requiredOption('--db <file>', 'the SQLite database (created at the first start, with <file>.keys next to it)')
    .option('--listen <host:port>', 'address to listen on, such as 127.0.0.1:8080 or 0.0.0.0:8443')
    .option('--tls-cert <file>', 'PEM certificate chain: serve HTTPS (with --tls-key)')
    .option('--tls-key <file>', 'PEM private key of --tls-cert')
    .option('--trust-proxy <list>', 'comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-For is believed')
    .option('--rate-limit <list>', 'per-minute budgets, such as enroll=100,per-key=1200 (defaults: enroll=10, redeem=10, failures=30, per-key=600)')
    .option('--create-admin-token <name>', 'create one more admin token, print it once, and exit')
    .option('--log-level <level>', 'debug, info, warn or error', 'info')
    .action(async (options: Options) => {
      if (!['debug', 'info', 'warn', 'error'].includes(options.logLevel)) throw new CliError('--log-level must be debug, info, warn or error', EXIT.usage);
      if (options.createAdminToken !== undefined) {
        if (!/^[^\u0000-\u001f\u007f]{1,128}$/.test(options.createAdminToken)) throw new CliError('--create-admin-token needs a name of 1–128 printable characters', EXIT.usage);
        try {
          const { createAdminTokenOffline } = await import('../../control-center/control-center.js');
          return await createAdminTokenOffline(options.db, options.createAdminToken);
        } catch (error) {
          throw await startFailure(error, 'no admin token was created');
        }
      }
      if (options.listen === undefined) throw new CliError('--listen HOST:PORT is required', EXIT.usage);
      const { host, port } = parseListen(options.listen);
      if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) throw new CliError('--tls-cert and --tls-key go together', EXIT.usage);
      const tls = options.tlsCert && options.tlsKey ? readTls(options.tlsCert, options.tlsKey) : undefined;
      const trustProxy = options.trustProxy?.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
      const rateLimits = options.rateLimit === undefined ? {} : parseRateLimits(options.rateLimit);
      const log = createLogger({ level: options.logLevel as LogLevel });
      let server;
      try {
        // The server (Fastify, SQLite) loads only for this command.
        const { startControlCenter } = await import('../../control-center/control-center.js');
        server = await startControlCenter({ databaseFile: options.db, host, port, ...(tls ? { tls } : {}), ...(trustProxy ? { trustProxy } : {}), rateLimits, log });
      } catch (error) {
        throw await startFailure(error);
      }
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          log.info('control-center.stopping', { signal });
          resolve();
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await server.close();
    });
}
