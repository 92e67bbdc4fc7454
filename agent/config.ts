/**
 * The agent's one config loader (docs/configuration.md): embedded defaults, then the JSON
 * file, then command-line overrides. A file that grants access is refused when someone other
 * than root (or the agent's own user) could have written it.
 */
import path from 'node:path';
import { ConfigError } from '../platform/config-error.js';
import { localTransport } from '../platform/ipc-transport.js';
import { currentPlatform } from '../platform/platform.js';
import { runsAsAdministrator } from '../platform/users.js';
import * as v from 'valibot';
import { DEFAULT_KDF, KDF_RANGES, type KdfParams } from './offline-pin/kdf.js';
import { DEFAULT_POLICY, PolicyInputSchema, intRange, type Policy } from '../protocol/policy-settings.js';
import { describeIssues } from '../platform/schema-errors.js';
import { describeFileError } from '../platform/file-errors.js';
import { JsonFileError, readJsonFileWithStats, SETTINGS_FILE_RULE } from '../platform/json-file.js';
import { InsecurePathError } from '../platform/secure-path.js';
import { parseTransport } from '../ble/transport-spec.js';

/** The platform's defaults (platform.ts `defaults`): /etc/latchkey/agent.json on Linux, %ProgramData%\\Latchkey\\agent.json on Windows. */
export const DEFAULT_CONFIG_FILE = currentPlatform().defaults.configFile;
/** Where the agent listens by default: the platform's endpoint (/run/latchkey/agent.sock on Linux, docs/ipc.md). */
export const DEFAULT_SOCKET = localTransport().defaultEndpoint;
export const DEFAULT_STATE_DIR = currentPlatform().defaults.stateDir;
export const DEFAULT_SELF_ENROLL_PAM_SERVICE = 'latchkey-enroll';
export const MAX_CONFIG_BYTES = 64 * 1024;
/** The enrollment file's name, next to the config file by default (docs/deployment.md). */
export const ENROLL_FILE_NAME = 'enroll.json';
/** sockaddr_un.sun_path is 108 bytes on Linux, 104 on macOS; keep a margin. */
export const MAX_SOCKET_PATH_BYTES = 100;

export type KeystoreBackendName = 'file' | 'os';

/** Bluetooth unlock (docs/configuration.md "ble", docs/ble-protocol.md). */
export interface BleConfig {
  readonly enabled: boolean;
  /** Which adapter: `hci:N`, `hci-user:N`, `uart:PATH[@BAUD]` or `usb:VID:PID[:BUS:ADDR]` (docs/ble-dongles.md). */
  readonly transport: string;
  /** The lock screen's whole BLE attempt at most (scan, connect, the person's approval, the proof). */
  readonly budgetMs: number;
  /** Lowest RSSI accepted (dBm); null turns the check off (lab use only). */
  readonly minRssi: number | null;
  /** The relay bound: PROOF must follow CHALLENGE within this (docs/ble-protocol.md §7). */
  readonly proofDeadlineMs: number;
}

export const DEFAULT_BLE: BleConfig = {
  enabled: false,
  transport: 'hci:0',
  budgetMs: 5_000,
  minRssi: -80,
  proofDeadlineMs: 300,
};
export const BLE_RANGES = { budgetMs: [500, 60_000], minRssi: [-127, 20], proofDeadlineMs: [10, 5_000] } as const;

const transportSpec = v.pipe(
  v.string('must be a transport such as "hci:0"'),
  v.check((value) => {
    try {
      parseTransport(value);
      return true;
    } catch {
      return false;
    }
  }, 'must be hci:N, hci-user:N, uart:/ABSOLUTE/PATH[@BAUD], uart:COMn[@BAUD] or usb:VID:PID[:BUS:ADDRESS]'),
);

export interface AgentConfig {
  readonly policy: Policy;
  readonly socket: string;
  readonly stateDir: string;
  readonly auditLog: string;
  readonly keystore: { readonly backend: KeystoreBackendName; readonly directory: string };
  readonly kdf: KdfParams;
  readonly selfEnrollPamService: string;
  readonly ble: BleConfig;
  /** Where to enroll this workstation (docs/online-protocol.md); installers write it. */
  readonly controlCenter: {
    readonly url: string;
    readonly installToken?: string | undefined;
    readonly name?: string | undefined;
  } | null;
  /** The enrollment file an installer drops (docs/deployment.md); read at start while not enrolled. */
  readonly enrollFile: string;
  /** The file the settings came from, or null for embedded defaults. */
  readonly source: string | null;
}

/** `controlCenter.*` here and in the enrollment file (agent/online/enroll-file.ts) follow the same rules. */
export const ControlCenterUrlSchema = v.pipe(
  v.string('must be a URL'),
  v.url('must be an http(s) URL'),
  v.regex(/^https?:\/\//, 'must be an http(s) URL'),
);
export const InstallTokenSchema = v.pipe(
  v.string('must be a string'),
  v.regex(/^lk_install_[A-Za-z0-9_-]{43}$/, 'must be an install token (lk_install_…)'),
);
export const WorkstationNameSchema = v.pipe(
  v.string('must be a string'),
  v.minLength(1, 'must be 1–128 characters'),
  v.maxLength(128, 'must be 1–128 characters'),
);

const absolutePath = (maxBytes = 4096) =>
  v.pipe(
    v.string(`must be an absolute path`),
    v.check((value) => path.isAbsolute(value) && !value.includes('\0'), `must be an absolute path`),
    v.check((value) => Buffer.byteLength(value) <= maxBytes, `must be at most ${maxBytes} bytes`),
  );

const ConfigFileSchema = v.strictObject(
  {
    policy: v.optional(PolicyInputSchema),
    socket: v.optional(absolutePath(MAX_SOCKET_PATH_BYTES)),
    stateDir: v.optional(absolutePath()),
    auditLog: v.optional(absolutePath()),
    keystore: v.optional(
      v.strictObject(
        {
          backend: v.optional(v.picklist(['file', 'os'], 'must be "file" or "os"')),
          directory: v.optional(absolutePath()),
        },
        'must be an object',
      ),
    ),
    kdf: v.optional(
      v.strictObject(
        {
          memoryKiB: v.optional(intRange(...KDF_RANGES.memoryKiB)),
          iterations: v.optional(intRange(...KDF_RANGES.iterations)),
        },
        'must be an object',
      ),
    ),
    controlCenter: v.optional(
      v.strictObject(
        {
          url: ControlCenterUrlSchema,
          installToken: v.optional(InstallTokenSchema),
          name: v.optional(WorkstationNameSchema),
        },
        'must be an object',
      ),
    ),
    enrollFile: v.optional(absolutePath()),
    selfEnrollPamService: v.optional(
      v.pipe(v.string('must be a string'), v.regex(/^[a-z0-9._-]{1,64}$/, 'must match [a-z0-9._-]{1,64}')),
    ),
    ble: v.optional(
      v.strictObject(
        {
          enabled: v.optional(v.boolean('must be true or false')),
          transport: v.optional(transportSpec),
          budgetMs: v.optional(intRange(...BLE_RANGES.budgetMs)),
          minRssi: v.optional(v.nullable(intRange(...BLE_RANGES.minRssi))),
          proofDeadlineMs: v.optional(intRange(...BLE_RANGES.proofDeadlineMs)),
        },
        'must be an object',
      ),
    ),
  },
  'must be a JSON object',
);

export interface ConfigOverrides {
  readonly stateDir?: string | undefined;
  readonly socket?: string | undefined;
}

/** Builds the effective config from parsed JSON (or undefined for "no file"). Pure. */
export function resolveAgentConfig(
  json: unknown,
  source: string | null,
  overrides: ConfigOverrides = {},
  isRoot = runsAsAdministrator(),
): AgentConfig {
  const where = source ?? 'the configuration';
  const parsed = v.safeParse(ConfigFileSchema, json ?? {});
  if (!parsed.success) throw new ConfigError('config-invalid', `${where}: ${describeIssues(parsed.issues, '')}`);
  const file = parsed.output;
  // Keyed by the flags, so a message names the one to fix.
  const overrideCheck = v.safeParse(
    v.object({
      '--state-dir': v.optional(absolutePath()),
      '--socket': v.optional(absolutePath(MAX_SOCKET_PATH_BYTES)),
    }),
    { '--state-dir': overrides.stateDir, '--socket': overrides.socket },
  );
  if (!overrideCheck.success) throw new ConfigError('config-invalid', describeIssues(overrideCheck.issues, ''));
  const stateDir = overrides.stateDir ?? file.stateDir ?? DEFAULT_STATE_DIR;
  const backend = file.keystore?.backend ?? (isRoot ? 'file' : 'os');
  return {
    policy: file.policy ?? DEFAULT_POLICY,
    socket: overrides.socket ?? file.socket ?? DEFAULT_SOCKET,
    stateDir,
    auditLog: file.auditLog ?? path.join(stateDir, 'audit.jsonl'),
    keystore: {
      backend,
      directory:
        file.keystore?.directory ??
        (isRoot && stateDir === DEFAULT_STATE_DIR
          ? path.join(DEFAULT_STATE_DIR, 'keystore')
          : path.join(stateDir, 'keystore')),
    },
    kdf: { ...DEFAULT_KDF, ...file.kdf },
    selfEnrollPamService: file.selfEnrollPamService ?? DEFAULT_SELF_ENROLL_PAM_SERVICE,
    ble: { ...DEFAULT_BLE, ...file.ble },
    controlCenter: file.controlCenter ?? null,
    enrollFile: file.enrollFile ?? path.join(path.dirname(source ?? DEFAULT_CONFIG_FILE), ENROLL_FILE_NAME),
    source,
  };
}

/**
 * Loads the config file. `file` undefined means the default path, where a missing file means
 * embedded defaults; a file named explicitly must exist.
 */
export async function loadAgentConfig(file: string | undefined, overrides: ConfigOverrides = {}): Promise<AgentConfig> {
  const target = file ?? DEFAULT_CONFIG_FILE;
  let json: v.InferOutput<typeof ConfigFileSchema>;
  let mode: number;
  try {
    ({
      value: json,
      stats: { mode },
    } = await readJsonFileWithStats(target, ConfigFileSchema, SETTINGS_FILE_RULE, MAX_CONFIG_BYTES));
  } catch (error) {
    if (!(error instanceof JsonFileError)) throw error;
    switch (error.problem) {
      case 'missing':
        if (file === undefined) return resolveAgentConfig(undefined, null, overrides);
        throw new ConfigError(
          'config-missing',
          `config file ${target} does not exist: write one (docs/configuration.md), or leave out --config for the embedded defaults`,
          { cause: error },
        );
      case 'insecure':
        if (error.cause instanceof InsecurePathError)
          throw new ConfigError('config-insecure', `refusing config file: ${error.reason}`, { cause: error });
        throw new ConfigError('config-insecure', `refusing config file ${target}: it is a symbolic link`, {
          cause: error,
        });
      case 'too-large':
        throw new ConfigError('config-invalid', error.message, { cause: error });
      case 'unreadable':
        throw new ConfigError(
          'config-invalid',
          `cannot read config file ${target}: ${describeFileError(error.cause, target)}`,
          { cause: error },
        );
      case 'not-json':
        throw new ConfigError(
          'config-invalid',
          `${target} is not valid JSON (${error.syntax}): fix it (docs/configuration.md has an example)`,
          { cause: error },
        );
      case 'invalid':
        throw new ConfigError('config-invalid', `${target}: ${describeIssues(error.issues, '')}`, { cause: error });
    }
  }
  const config = resolveAgentConfig(json, target, overrides);
  // A file that holds a secret must not be readable by others (docs/configuration.md "controlCenter").
  if (config.controlCenter?.installToken !== undefined && (mode & 0o044) !== 0) {
    throw new ConfigError(
      'config-insecure',
      `refusing config file ${target}: it holds controlCenter.installToken and other users can read it (mode ${(mode & 0o7777).toString(8).padStart(4, '0')}); run chmod 600 ${target}`,
    );
  }
  return config;
}
