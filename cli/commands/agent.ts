import { platformImplemented } from '../../platform/platform.js';
import path from 'node:path';
import type { Command } from 'commander';
import {
  DEFAULT_CONFIG_FILE,
  DEFAULT_SOCKET,
  DEFAULT_STATE_DIR,
  MAX_SOCKET_PATH_BYTES,
  loadAgentConfig,
  type AgentConfig,
} from '../../agent/config.js';
import { ConfigError } from '../../platform/config-error.js';
import { describeFileError, isSystemCallError } from '../../platform/file-errors.js';
import { createLogger, type LogLevel } from '../../platform/log.js';
import { InsecurePathError, UnusablePathError } from '../../platform/secure-path.js';
import { CliError } from '../../platform/exit-codes.js';
import { nodeFetch } from '../../platform/node-fetch.js';
import { absolutePathOption } from '../options.js';
import type { RunningAgent } from '../../agent/agent.js';
import { untilStopped } from '../until-stopped.js';

export const EXIT_CONFIG = 78;

/** Which setting chose `file`, so the error says what to change. */
export function settingFor(config: AgentConfig, file: string): string {
  const configFile = config.source ?? DEFAULT_CONFIG_FILE;
  const key = (name: string) => `${name} in ${configFile}`;
  const flagOrKey = (flag: string, name: string) => (config.source ? `${flag}, or ${key(name)}` : flag);
  const under = (directory: string) => file === directory || file.startsWith(`${directory}${path.sep}`);
  if (file === config.socket || file === path.dirname(config.socket)) return flagOrKey('--socket', 'socket');
  if (file === config.auditLog) return key('auditLog');
  if (config.keystore.backend === 'file' && under(config.keystore.directory)) return key('keystore.directory');
  if (under(config.stateDir)) return flagOrKey('--state-dir', 'stateDir');
  return `--config ${configFile}`;
}

/** A start failure as one line: what went wrong with which path, and the setting that names it. */
function startFailure(error: unknown, config: AgentConfig | undefined): CliError {
  if (error instanceof ConfigError) return new CliError(error.message, EXIT_CONFIG);
  if (error instanceof InsecurePathError) return new CliError(`refusing to start: ${error.message}`, EXIT_CONFIG);
  if (error instanceof UnusablePathError && config)
    return new CliError(
      `refusing to start: ${error.message} (choose another with ${settingFor(config, error.path)})`,
      EXIT_CONFIG,
    );
  if (isSystemCallError(error) && error.path && config) {
    return new CliError(
      `refusing to start: ${describeFileError(error)} (check ${settingFor(config, path.resolve(error.path))})`,
      EXIT_CONFIG,
    );
  }
  return new CliError(`the agent could not start: ${(error as Error).message}`);
}

export function registerAgent(program: Command): void {
  program
    .command('agent')
    .description('run the agent in the foreground (stops on SIGINT/SIGTERM)')
    .option(
      '--config <file>',
      `config file (default ${DEFAULT_CONFIG_FILE}; if that is missing, embedded defaults with offline PINs off)`,
    )
    .option(
      '--state-dir <dir>',
      `state directory (overrides the config file; default ${DEFAULT_STATE_DIR})`,
      absolutePathOption('--state-dir'),
    )
    .option(
      '--socket <path>',
      `socket to listen on (overrides the config file; default ${DEFAULT_SOCKET})`,
      absolutePathOption('--socket', MAX_SOCKET_PATH_BYTES),
    )
    .option('--log-level <level>', 'debug, info, warn or error', 'info')
    .option(
      '--stop-on-stdin-close',
      'also stop cleanly when standard input closes (the Windows service wrapper asks so: docs/windows.md §2)',
    )
    .action(
      async (options: {
        config?: string;
        stateDir?: string;
        socket?: string;
        logLevel: string;
        stopOnStdinClose?: boolean;
      }) => {
        if (!['debug', 'info', 'warn', 'error'].includes(options.logLevel))
          throw new CliError('--log-level must be debug, info, warn or error', 64);
        // Before anything touches the disk: on an OS without its seams (neither Linux nor Windows)
        // the agent cannot work, and a service manager must not restart it over and over.
        if (!platformImplemented()) {
          throw new CliError(
            `the agent does not run on ${process.platform} (Linux and Windows only); nothing was changed`,
            EXIT_CONFIG,
          );
        }
        const log = createLogger({ level: options.logLevel as LogLevel });
        let agent: RunningAgent;
        let config: AgentConfig | undefined;
        try {
          config = await loadAgentConfig(options.config, { stateDir: options.stateDir, socket: options.socket });
          // node:http(s), not global fetch: the agent runs without WebAssembly, which undici needs.
          const { startAgent } = await import('../../agent/agent.js');
          agent = await startAgent({ config, log, fetch: nodeFetch });
        } catch (error) {
          throw startFailure(error, config);
        }
        await untilStopped(log, 'agent.stopping', { stdinClose: options.stopOnStdinClose === true });
        await agent.close();
      },
    );
}
