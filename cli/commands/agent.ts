import type { Command } from 'commander';
import { ConfigError, DEFAULT_CONFIG_FILE, loadAgentConfig } from '../../agent/config.js';
import { createLogger, type LogLevel } from '../../agent/log.js';
import { InsecurePathError } from '../../agent/secure-path.js';
import { CliError } from '../exit-codes.js';
import { nodeFetch } from '../node-fetch.js';

export const EXIT_CONFIG = 78;

export function registerAgent(program: Command): void {
  program
    .command('agent')
    .description('run the agent in the foreground (stops on SIGINT/SIGTERM)')
    .option('--config <file>', `config file (default ${DEFAULT_CONFIG_FILE}; if that is missing, embedded defaults with offline PINs off)`)
    .option('--state-dir <dir>', 'state directory (overrides the config file; default /var/lib/latchkey)')
    .option('--socket <path>', 'socket to listen on (overrides the config file; default /run/latchkey/agent.sock)')
    .option('--log-level <level>', 'debug, info, warn or error', 'info')
    .action(async (options: { config?: string; stateDir?: string; socket?: string; logLevel: string }) => {
      if (!['debug', 'info', 'warn', 'error'].includes(options.logLevel)) throw new CliError('--log-level must be debug, info, warn or error', 64);
      const log = createLogger({ level: options.logLevel as LogLevel });
      let agent;
      try {
        const config = await loadAgentConfig(options.config, { stateDir: options.stateDir, socket: options.socket });
        // node:http(s), not global fetch: the agent runs without WebAssembly, which undici needs.
        const { startAgent } = await import('../../agent/agent.js');
        agent = await startAgent({ config, log, fetch: nodeFetch });
      } catch (error) {
        if (error instanceof ConfigError) throw new CliError(error.message, EXIT_CONFIG);
        if (error instanceof InsecurePathError) throw new CliError(`refusing to start: ${error.message}`, EXIT_CONFIG);
        throw new CliError(`the agent could not start: ${(error as Error).message}`);
      }
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          log.info('agent.stopping', { signal });
          resolve();
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await agent.close();
    });
}
