/**
 * Starting and stopping the Control Center (docs/control-center.md "Running it"): the
 * database, the key file (created once, then checked against the database), the first admin
 * token (printed once), the HTTP(S) server, and a minute timer that prunes expired rows.
 */
import path from 'node:path';
import { describeListenError } from '../platform/file-errors.js';
import { createLogger, type Logger } from '../platform/log.js';
import { makeDirectories } from '../platform/secure-path.js';
import { newId } from '../protocol/online/ids.js';
import { StartupError } from './errors.js';
import { EventBus } from './event-bus.js';
import { buildApp } from './http/app.js';
import { ConsoleSessions } from './http/console-session.js';
import type { CcContext } from './http/route-context.js';
import { DEFAULT_RATE_LIMITS, makeLimiters, type RateLimits } from './http/rate-limit.js';
import { createKeyFile, keyFileExists, keyFileFor, loadKeyFile, type CcKeys } from './keys.js';
import { newAdminToken, tokenDigest } from './secrets.js';
import { openSqliteStorage, type SqliteStorage } from './storage/sqlite/sqlite-storage.js';
import type { Storage } from './storage/storage.js';

export interface ControlCenterOptions {
  readonly databaseFile: string;
  readonly host: string;
  readonly port: number;
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
  readonly trustProxy?: readonly string[];
  readonly now?: () => number;
  readonly log?: Logger;
  readonly rateLimits?: Partial<RateLimits>;
  /** Where the first admin token's one line goes (default: standard output). */
  readonly printSecretLine?: (line: string) => void;
}

export interface RunningControlCenter {
  readonly url: string;
  readonly port: number;
  readonly storage: SqliteStorage;
  readonly keys: CcKeys;
  close(): Promise<void>;
}

const PRUNE_INTERVAL_MS = 60_000;
/** How long a stopping server lets answers in flight finish before it cuts the remaining connections. */
const CLOSE_GRACE_MS = 3_000;
const stdoutLine = (line: string) => void process.stdout.write(`${line}\n`);

/** Creates the key file at first start; afterwards the file must hold the keys the database recorded. */
async function setUpKeys(storage: Storage, databaseFile: string, now: number): Promise<CcKeys> {
  const file = keyFileFor(databaseFile);
  const recorded = await storage.getMeta('cc_signing_key');
  if (!(await keyFileExists(file))) {
    if (recorded !== null) {
      throw new StartupError(
        'keys-missing',
        `the key file ${file} is missing, but this database was created with a key (${recorded}); restore the key file from the backup of this database`,
      );
    }
    await createKeyFile(file, now);
  }
  const keys = await loadKeyFile(file);
  const stored = await storage.initMeta({ cc_signing_key: keys.ccKey, cc_box_key: keys.ccBoxKey });
  if (stored.cc_signing_key !== keys.ccKey || stored.cc_box_key !== keys.ccBoxKey) {
    throw new StartupError(
      'keys-mismatch',
      `the key file ${file} holds other keys than the ones this database was created with (signing key ${stored.cc_signing_key}); restore the matching key file`,
    );
  }
  return keys;
}

export async function createAdminToken(storage: Storage, name: string, now: number, actor: string): Promise<string> {
  const tenant = await storage.defaultTenant();
  const token = newAdminToken();
  const id = newId('at');
  await storage.createAdminToken(
    { id, tenantId: tenant.id, name, sha256: await tokenDigest(token), now },
    {
      time: now,
      tenantId: tenant.id,
      actor,
      address: null,
      action: 'admin-token.create',
      target: id,
      result: 'ok',
      detail: { name },
    },
  );
  return token;
}

/**
 * Makes the database's directory (0700, whatever the umask, as the agent makes its state
 * directory) when it is missing, so `--db /var/lib/latchkey-cc/cc.db` works on a fresh machine.
 * An existing directory is left as it is.
 */
export async function prepareDatabaseDirectory(databaseFile: string): Promise<void> {
  try {
    await makeDirectories(path.dirname(path.resolve(databaseFile)), 0o700);
  } catch (error) {
    throw new StartupError('database-unreadable', (error as Error).message, { cause: error });
  }
}

/** `--create-admin-token NAME`: one more admin token, printed once (works while the server runs). */
export async function createAdminTokenOffline(
  databaseFile: string,
  name: string,
  print: (line: string) => void = stdoutLine,
): Promise<void> {
  await prepareDatabaseDirectory(databaseFile);
  const storage = openSqliteStorage(databaseFile, Date.now());
  try {
    const token = await createAdminToken(storage, name, Date.now(), 'system:command-line');
    print(`Latchkey Control Center: new admin token "${name}" (shown once, store it now): ${token}`);
  } finally {
    await storage.close();
  }
}

export async function startControlCenter(options: ControlCenterOptions): Promise<RunningControlCenter> {
  const now = options.now ?? Date.now;
  const log = options.log ?? createLogger();
  await prepareDatabaseDirectory(options.databaseFile);
  const storage = openSqliteStorage(options.databaseFile, now());
  try {
    const keys = await setUpKeys(storage, options.databaseFile, now());
    const tenant = await storage.defaultTenant();
    if ((await storage.listAdminTokens(tenant.id)).length === 0) {
      const token = await createAdminToken(storage, 'first', now(), 'system:first-start');
      (options.printSecretLine ?? stdoutLine)(
        `Latchkey Control Center: first admin token (shown once, store it now): ${token}`,
      );
      log.info('control-center.first-admin-token', { printed: 'stdout' });
    }
    const bus = new EventBus();
    const ctx: CcContext = {
      storage,
      bus,
      keys,
      now,
      log,
      limiters: makeLimiters({ ...DEFAULT_RATE_LIMITS, ...options.rateLimits }, now),
      defaultTenantId: tenant.id,
      consoleSessions: new ConsoleSessions(now),
    };
    const app = buildApp(ctx, {
      ...(options.tls ? { tls: options.tls } : {}),
      ...(options.trustProxy ? { trustProxy: options.trustProxy } : {}),
    });
    try {
      await app.listen({ host: options.host, port: options.port });
    } catch (error) {
      throw new StartupError('listen-failed', describeListenError(error, options.host, options.port), { cause: error });
    }
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : options.port;
    const host = options.host.includes(':') ? `[${options.host}]` : options.host;
    const url = `${options.tls ? 'https' : 'http'}://${host}:${port}`;
    const pruner = setInterval(
      () => void storage.prune(now()).catch((error: unknown) => log.warn('control-center.prune-failed', { error })),
      PRUNE_INTERVAL_MS,
    );
    pruner.unref();
    log.info('control-center.listening', { url, database: options.databaseFile });
    let closing: Promise<void> | null = null;
    return {
      url,
      port,
      storage,
      keys,
      close() {
        closing ??= (async () => {
          clearInterval(pruner);
          bus.close(); // waiting long-polls answer now, with Connection: close
          // server.close() reaps only the connections idle at that instant; kept-alive ones that
          // go idle later would hold it for the 72 s keep-alive timeout, so reap as they go idle.
          const reaper = setInterval(() => app.server.closeIdleConnections(), 100);
          const straggler = setTimeout(() => app.server.closeAllConnections(), CLOSE_GRACE_MS);
          await app.close();
          clearInterval(reaper);
          clearTimeout(straggler);
          await storage.close();
          log.info('control-center.stopped', {});
        })();
        return closing;
      },
    };
  } catch (error) {
    await storage.close();
    throw error;
  }
}
