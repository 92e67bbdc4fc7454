import { describe, expect, it } from 'vitest';
import { createLogger, formatLogLine } from '../../agent/log.js';

describe('the redacting log formatter', () => {
  it('never prints bytes or fields named like secrets', () => {
    const line = formatLogLine('info', 'verify', { user: 'alice', pin: 'K7QM2XHD', seed: 'abc', password: 'hunter2', importUri: 'latchkey://x', data: new Uint8Array([1, 2]), pinCount: 25 }, new Date(0));
    expect(line).toBe('1970-01-01T00:00:00.000Z info verify user=alice pin=[redacted] seed=[redacted] password=[redacted] importUri=[redacted] data=[bytes] pinCount=25\n');
  });

  it('quotes values with spaces and shows an error\'s code and message', () => {
    const error = Object.assign(new Error('no such file'), { code: 'ENOENT' });
    expect(formatLogLine('error', 'x', { file: '/a b', error }, new Date(0))).toBe('1970-01-01T00:00:00.000Z error x file="/a b" error="ENOENT: no such file"\n');
  });

  it('filters by level', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'warn', write: (line) => lines.push(line) });
    log.info('quiet');
    log.warn('loud');
    expect(lines).toHaveLength(1);
  });
});
