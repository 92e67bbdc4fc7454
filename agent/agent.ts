/**
 * Wires the agent together (docs/architecture.md): config → state directory and lock →
 * keystore and sealing key → service → IPC server. `startAgent` returns once the socket
 * accepts connections.
 */
import { hostname } from 'node:os';
import { ownedByThisProcess } from '../platform/secure-path.js';
import path from 'node:path';
import { AgentService } from './agent-service.js';
import { AUDIT_COALESCE_MS, AUDIT_MAX_BYTES, AuditLog } from './state/audit-log.js';
import { systemClock, type Clock } from '../platform/clock.js';
import type { AgentConfig } from './config.js';
import { startIpcServer, type IpcServerOptions } from './ipc-server.js';
import { isBelowFloor } from './offline-pin/kdf.js';
import { openKeystore, type Keystore } from '../platform/keystore/keystore.js';
import { createLogger, withUserBudget, type Logger } from '../platform/log.js';
import type { VerifierFunction } from './offline-pin/offline-pin-pool.js';
import { SealingKeyProvider } from './state/sealing-key.js';
import { ensureSecureDirectory } from '../platform/secure-path.js';
import { acquireExclusiveLock } from '../platform/file-lock.js';
import { checkPassword, type PasswordCheck } from '../platform/password-check.js';
import { lookupUserByName } from '../platform/users.js';
import { currentPlatform } from '../platform/platform.js';
import type { Account } from './agent-service.js';
import { KeyedMutex } from './keyed-mutex.js';
import { UserStateStore } from './state/user-state-store.js';
import { describePolicyOrigin, policyOrigin } from './policy-origin.js';
import { OnlineService } from './online/online-service.js';
import type { FetchLike } from '../platform/api-client.js';
import { WallClockFloor } from './state/wall-clock-floor.js';
import { BleRadio } from './ble/ble-radio.js';
import type { BleTransport } from '../ble/stack.js';

export interface StartAgentOptions {
  readonly config: AgentConfig;
  readonly log?: Logger;
  /** Injected by tests that move time by hand; the kernel's clocks otherwise. */
  readonly clock?: Clock;
  /** Injected by tests; the configured backend otherwise. */
  readonly keystore?: Keystore;
  readonly passwordCheck?: PasswordCheck;
  readonly verifier?: VerifierFunction;
  /** Socket limits (docs/ipc.md); tests shorten the timeouts. */
  readonly ipcLimits?: Pick<IpcServerOptions, 'frameReadTimeoutMs' | 'idleTimeoutMs' | 'limits'>;
  /** Audit bounds (docs/state-files.md "Audit log"); tests shrink them. */
  readonly auditLimits?: { readonly maxBytes?: number; readonly coalesceMs?: number };
  /** The HTTP transport to the Control Center (tests); global fetch otherwise. */
  readonly fetch?: FetchLike;
  /** The Bluetooth transport (tests: a port of an in-process virtual controller); `ble.transport` otherwise. */
  readonly bleTransport?: BleTransport;
  /**
   * The OS the agent decides for (the Windows password's capture and handback, docs/windows.md §5–6):
   * currentPlatform().name unless a test on Linux walks the Windows path through the real agent.
   */
  readonly platformName?: NodeJS.Platform;
  /** A local account by name (tests of that Windows path: `DOMAIN\\name` and a SID); the platform's user lookup otherwise. */
  readonly lookupAccount?: (user: string) => Promise<Account | null>;
}

export interface RunningAgent {
  readonly socketPath: string;
  readonly config: AgentConfig;
  close(): Promise<void>;
}

export async function startAgent(options: StartAgentOptions): Promise<RunningAgent> {
  const { config } = options;
  const log = withUserBudget(options.log ?? createLogger());
  const owner = ownedByThisProcess(0o077);
  await ensureSecureDirectory(config.stateDir, owner);
  const usersDir = path.join(config.stateDir, 'users');
  await ensureSecureDirectory(usersDir, owner);
  const lock = await acquireExclusiveLock(path.join(config.stateDir, 'agent.lock'));
  try {
    const keystore =
      options.keystore ??
      openKeystore(
        config.keystore.backend === 'file'
          ? { backend: 'file', directory: config.keystore.directory }
          : { backend: 'os' },
      );
    let store: UserStateStore;
    const keys = new SealingKeyProvider(config.stateDir, keystore, () => store.hasAnyState());
    store = new UserStateStore(usersDir, () => keys.keys());
    const wallFloor = new WallClockFloor(path.join(config.stateDir, 'clock.json'), log);
    await wallFloor.load();
    const clock = options.clock ?? systemClock;
    const audit = new AuditLog(
      config.auditLog,
      log,
      options.auditLimits?.maxBytes ?? AUDIT_MAX_BYTES,
      options.auditLimits?.coalesceMs ?? AUDIT_COALESCE_MS,
      () => clock.now().wallMs,
    );
    const mutex = new KeyedMutex();
    const online = new OnlineService({
      stateDir: config.stateDir,
      auditFile: config.auditLog,
      keystore,
      store,
      mutex,
      audit,
      log,
      clock,
      kdf: config.kdf,
      enrollment: config.controlCenter
        ? {
            url: config.controlCenter.url,
            installToken: config.controlCenter.installToken,
            name: config.controlCenter.name ?? hostname(),
          }
        : undefined,
      enrollFile: config.enrollFile,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    const radio = new BleRadio(config.ble, log, options.bleTransport);
    const lookupAccount =
      options.lookupAccount ??
      (async (user: string): Promise<Account | null> => {
        const record = lookupUserByName(user);
        return record && { name: record.name, uid: record.uid };
      });
    const service = new AgentService({
      online,
      radio,
      mutex,
      wallFloor,
      config,
      store,
      keys: () => keys.keys(),
      clock,
      audit,
      log,
      host: hostname(),
      lookupUid: async (user) => (await lookupAccount(user))?.uid ?? null,
      lookupAccount,
      passwordCheck: options.passwordCheck ?? checkPassword,
      verifier: options.verifier,
      platformName: options.platformName ?? currentPlatform().name,
      computerName: process.env.COMPUTERNAME ?? hostname(),
    });
    const stale = await store.removeStaleTempFiles();
    if (stale > 0) log.info('state.removed-temp-files', { count: stale });
    const server = await startIpcServer({
      ...options.ipcLimits,
      socketPath: config.socket,
      handle: (request, peer, connection) => service.handle(request, peer, connection),
      log,
    });
    if (isBelowFloor(config.kdf)) {
      log.warn('kdf.below-recommended', {
        memoryKiB: config.kdf.memoryKiB,
        iterations: config.kdf.iterations,
        note: 'test/benchmark setting: offline PIN verifiers are cheap to guess from a copied disk',
      });
    }
    // Load (or create) the sealing key now so a keystore problem shows in the log at start;
    // requests retry it, so a keychain unlocked later still works.
    await keys.keys().catch((error: unknown) => log.error('keystore.unavailable', { error: error as Error }));
    await online.start().catch((error: unknown) => log.error('online.start-failed', { error: error as Error }));
    // The policy in force and where it came from: the Control Center's signed one replaces the file's.
    const policy = online.policy ?? config.policy;
    log.info('agent.ready', {
      socket: config.socket,
      stateDir: config.stateDir,
      config: config.source ?? '(embedded defaults)',
      keystore: keystore.describe(),
      offlineMode: policy.offlineMode,
      policyFrom: describePolicyOrigin(policyOrigin(online, config)),
      ble: config.ble.enabled ? config.ble.transport : false,
      pid: process.pid,
    });
    return {
      socketPath: server.socketPath,
      config,
      async close() {
        await server.close();
        await radio.close();
        await online.close();
        await audit.close();
        wallFloor.observe((options.clock ?? systemClock).now().wallMs);
        await wallFloor.flush();
        await lock.release();
      },
    };
  } catch (error) {
    await lock.release();
    throw error;
  }
}
