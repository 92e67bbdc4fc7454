/**
 * The agent's one log formatter (STYLE.md §6): logfmt-style lines on stderr. Values are
 * redacted by type and by name, so a secret cannot reach the log by accident: byte arrays
 * never print, and any field whose name looks like a secret prints as [redacted].
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_NAME = /pin|seed|secret|password|passwd|token|key|verifier|salt|hash|uri|tag/i;
/** Field names that match SECRET_NAME but are known not to hold secrets. */
const SAFE_NAMES = new Set(['keystore', 'keystoreBackend', 'pinCount', 'pinLength', 'pinCharset', 'stateId']);

export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

function formatValue(name: string, value: unknown): string {
  if (SECRET_NAME.test(name) && !SAFE_NAMES.has(name)) return '[redacted]';
  if (value instanceof Uint8Array || value instanceof ArrayBuffer) return '[bytes]';
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return JSON.stringify(`${code ? `${String(code)}: ` : ''}${value.message}`);
  }
  if (typeof value === 'string') return /^[\w./:@+-]*$/.test(value) && value !== '' ? value : JSON.stringify(value);
  if (value === undefined) return 'undefined';
  return JSON.stringify(value) ?? String(value);
}

export function formatLogLine(level: LogLevel, event: string, fields: LogFields = {}, now = new Date()): string {
  let line = `${now.toISOString()} ${level} ${event}`;
  for (const [name, value] of Object.entries(fields)) line += ` ${name}=${formatValue(name, value)}`;
  return `${line}\n`;
}

export function createLogger(options: { level?: LogLevel; write?: (line: string) => void } = {}): Logger {
  const threshold = LEVELS[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const at = (level: LogLevel) => (event: string, fields?: LogFields) => {
    if (LEVELS[level] >= threshold) write(formatLogLine(level, event, fields));
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
