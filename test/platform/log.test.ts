import { describe, expect, it } from 'vitest';
import { MAX_LOG_TEXT_CHARS, createLogger, formatLogLine, withUserBudget } from '../../platform/log.js';

describe('the redacting log formatter', () => {
  it('never prints bytes or fields named like secrets', () => {
    const line = formatLogLine(
      'info',
      'verify',
      {
        user: 'alice',
        pin: 'K7QM2XHD',
        seed: 'abc',
        password: 'hunter2',
        importUri: 'latchkey://x',
        data: new Uint8Array([1, 2]),
        pinCount: 25,
      },
      new Date(0),
    );
    expect(line).toBe(
      '1970-01-01T00:00:00.000Z info verify user=alice pin=[redacted] seed=[redacted] password=[redacted] importUri=[redacted] data=[bytes] pinCount=25\n',
    );
  });

  it("quotes values with spaces and shows an error's code and message", () => {
    const error = Object.assign(new Error('no such file'), { code: 'ENOENT' });
    expect(formatLogLine('error', 'x', { file: '/a b', error }, new Date(0))).toBe(
      '1970-01-01T00:00:00.000Z error x file="/a b" error="ENOENT: no such file"\n',
    );
  });

  it('filters by level', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'warn', write: (line) => lines.push(line) });
    log.info('quiet');
    log.warn('loud');
    expect(lines).toHaveLength(1);
  });

  it('leaves out a field with no value instead of printing "undefined"', () => {
    expect(
      formatLogLine('info', 'verify', { user: 'alice', result: 'accepted', reason: undefined, ms: 3 }, new Date(0)),
    ).toBe('1970-01-01T00:00:00.000Z info verify user=alice result=accepted ms=3\n');
  });

  it('cuts a long text value short and says by how much (a request cannot make a line long)', () => {
    const line = formatLogLine('info', 'verify', { context: 'c'.repeat(MAX_LOG_TEXT_CHARS + 40) }, new Date(0));
    expect(line).toBe(`1970-01-01T00:00:00.000Z info verify context="${'c'.repeat(MAX_LOG_TEXT_CHARS)}…(+40)"\n`);
  });
});

describe('the per-user line budget', () => {
  it('lets perMinute lines about one user through, counts the rest, and sums them up once the minute is over', () => {
    const lines: string[] = [];
    let now = 0;
    const log = withUserBudget(createLogger({ write: (line) => lines.push(line) }), 3, () => now);
    for (let i = 0; i < 10; i++) log.info('verify', { user: 'mallory', result: 'locked' });
    log.info('verify', { user: 'alice', result: 'accepted' }); // another user has a budget of their own
    log.info('agent.ready'); // lines about no user are never counted
    log.error('verify.failed', { user: 'mallory' }); // nor are errors
    expect(lines.filter((line) => line.includes('user=mallory'))).toHaveLength(4);
    expect(lines.filter((line) => line.includes('user=alice'))).toHaveLength(1);
    now = 60_000;
    log.info('verify', { user: 'mallory', result: 'locked' });
    expect(lines.at(-2)).toMatch(/warn log.suppressed user=mallory lines=7 perMinute=3/);
    expect(lines.at(-1)).toMatch(/info verify user=mallory/);
  });
});
