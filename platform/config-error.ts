/**
 * A config file that was not used, with a stable code (docs/cli.md maps them to exit 78): the
 * agent's loader (agent/config.ts) and the Control Center's (control-center/config.ts) both throw it.
 */
import { CodedError } from '../protocol/coded-error.js';

export type ConfigErrorCode = 'config-missing' | 'config-insecure' | 'config-invalid';

export class ConfigError extends CodedError<ConfigErrorCode> {}
