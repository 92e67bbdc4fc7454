/**
 * The agent's one log formatter (STYLE.md §6): logfmt-style lines on stderr. Values are
 * redacted by type and by name, so a secret cannot reach the log by accident: byte arrays
 * never print, and any field whose name looks like a secret prints as [redacted].
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
/** Longest a text value prints (docs/security.md "Filling the disk"): what a request may put in a line is bounded. */
export const MAX_LOG_TEXT_CHARS = 160;
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
  if (typeof value === 'string') {
    const text =
      value.length > MAX_LOG_TEXT_CHARS
        ? `${value.slice(0, MAX_LOG_TEXT_CHARS)}…(+${value.length - MAX_LOG_TEXT_CHARS})`
        : value;
    return /^[\w./:@+-]*$/.test(text) && text !== '' ? text : JSON.stringify(text);
  }
  return JSON.stringify(value) ?? String(value);
}

export function formatLogLine(level: LogLevel, event: string, fields: LogFields = {}, now = new Date()): string {
  let line = `${now.toISOString()} ${level} ${event}`;
  // An absent value (undefined) is left out rather than printed as "undefined".
  for (const [name, value] of Object.entries(fields))
    if (value !== undefined) line += ` ${name}=${formatValue(name, value)}`;
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

/** Lines about one user the log takes per minute (docs/security.md "Filling the disk"). */
export const LOG_LINES_PER_USER_PER_MINUTE = 30;
const LOG_BUDGET_WINDOW_MS = 60_000;

/**
 * Bounds what requests about one user can write: lines that carry a `user` field (every
 * per-request line does; a non-root caller may only ask about its own user) are let through
 * `perMinute` at a time per user, the rest counted and summed up in one `log.suppressed` line.
 * Errors (and debug lines, which an administrator asked for) always pass. Decisions are
 * unaffected: the audit log keeps them (counted, not dropped).
 */
export function withUserBudget(
  log: Logger,
  perMinute = LOG_LINES_PER_USER_PER_MINUTE,
  now: () => number = Date.now,
): Logger {
  const windows = new Map<string, { start: number; lines: number; suppressed: number }>();
  const summarise = (user: string, window: { suppressed: number }) => {
    if (window.suppressed > 0) log.warn('log.suppressed', { user, lines: window.suppressed, perMinute });
  };
  setInterval(() => {
    const at = now();
    for (const [user, window] of windows) {
      if (at - window.start < LOG_BUDGET_WINDOW_MS) continue;
      summarise(user, window);
      windows.delete(user);
    }
  }, LOG_BUDGET_WINDOW_MS).unref();
  const budgeted = (level: 'info' | 'warn') => (event: string, fields?: LogFields) => {
    const user = fields?.user;
    if (typeof user !== 'string') return log[level](event, fields);
    const at = now();
    let window = windows.get(user);
    if (window === undefined || at - window.start >= LOG_BUDGET_WINDOW_MS) {
      if (window !== undefined) summarise(user, window);
      window = { start: at, lines: 0, suppressed: 0 };
      windows.set(user, window);
    }
    if (window.lines >= perMinute) {
      window.suppressed += 1;
      return;
    }
    window.lines += 1;
    log[level](event, fields);
  };
  return {
    debug: (event, fields) => log.debug(event, fields),
    info: budgeted('info'),
    warn: budgeted('warn'),
    error: (event, fields) => log.error(event, fields),
  };
}
