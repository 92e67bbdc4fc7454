/**
 * agent/state/audit-log.ts on real files (docs/state-files.md "Audit log"): repeated refusals are
 * counted, not written one by one; the file rotates to FILE.1 at its bound; nothing is lost at
 * close.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AUDIT_WRITTEN_PER_RUN, AuditLog, rotatedAuditFile, type AuditEntry } from '../../../agent/state/audit-log.js';
import { createLogger } from '../../../platform/log.js';
import { makeTempDir } from '../../helpers/agent-harness.js';

const refusal = (overrides: Partial<AuditEntry> = {}): AuditEntry => ({
  event: 'verify',
  user: 'alice',
  authenticatorId: null,
  result: 'locked',
  reason: 'hammering-delay',
  remaining: null,
  context: 'x'.repeat(128),
  peer: { pid: 42, uid: 1000 },
  ...overrides,
});

async function lines(file: string): Promise<Array<Record<string, unknown>>> {
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function newLog(options: { maxBytes?: number; coalesceMs?: number; now?: () => number } = {}) {
  const file = path.join(await makeTempDir(), 'audit.jsonl');
  const logLines: string[] = [];
  const log = new AuditLog(
    file,
    createLogger({ write: (line) => logLines.push(line) }),
    options.maxBytes,
    options.coalesceMs,
    options.now,
  );
  return { file, log, logLines };
}

describe('the audit log', () => {
  it('writes the first refusals of a run, counts the rest, and says how many at the end of the window', async () => {
    let now = 1_000_000;
    const { file, log } = await newLog({ coalesceMs: 60_000, now: () => now });
    for (let i = 0; i < 1000; i++) log.append(refusal({ peer: { pid: 42 + i, uid: 1000 } }), now + i);
    expect(await lines(file)).toHaveLength(AUDIT_WRITTEN_PER_RUN);
    now += 61_000;
    log.append(refusal(), now); // a new window: the count of the old one goes first
    const written = await lines(file);
    expect(written).toHaveLength(AUDIT_WRITTEN_PER_RUN + 2);
    expect(written[AUDIT_WRITTEN_PER_RUN]).toMatchObject({
      event: 'verify',
      result: 'locked',
      repeated: 1000 - AUDIT_WRITTEN_PER_RUN,
      since: new Date(1_000_000 + AUDIT_WRITTEN_PER_RUN).toISOString(),
      time: new Date(1_000_999).toISOString(),
      peer: { uid: 1000 },
    });
    expect(written.at(-1)).not.toHaveProperty('repeated');
    await log.close();
  });

  it('keeps apart what differs: another user, uid, result or reason; and never counts a success', async () => {
    const now = 5_000_000;
    const { file, log } = await newLog({ now: () => now });
    for (let i = 0; i < 20; i++) {
      log.append(refusal(), now);
      log.append(refusal({ user: 'bob' }), now);
      log.append(refusal({ peer: { pid: 1, uid: 0 } }), now);
      log.append(refusal({ result: 'rejected', reason: 'wrong-pin' }), now);
      log.append(refusal({ result: 'accepted', reason: null }), now);
    }
    const written = await lines(file);
    expect(written.filter((line) => line.result === 'accepted')).toHaveLength(20);
    expect(written.filter((line) => line.result !== 'accepted')).toHaveLength(4 * AUDIT_WRITTEN_PER_RUN);
    await log.close();
    expect((await lines(file)).filter((line) => line.repeated === 20 - AUDIT_WRITTEN_PER_RUN)).toHaveLength(4); // close writes the open counts
  });

  it('rotates to FILE.1 at its bound, so the audit never holds much more than twice that', async () => {
    const { file, log, logLines } = await newLog({ maxBytes: 4096 });
    for (let i = 0; i < 200; i++)
      log.append(refusal({ user: `user-${i}`, result: 'accepted', reason: null }), 1_000 + i);
    await log.close();
    const [current, rotated] = await Promise.all([fs.stat(file), fs.stat(rotatedAuditFile(file))]);
    expect(current.size).toBeLessThanOrEqual(4096);
    expect(rotated.size).toBeLessThanOrEqual(4096);
    expect((await lines(file)).at(-1)).toMatchObject({ user: 'user-199' });
    expect(logLines.join('')).toContain('audit.rotated');
    expect((rotated.mode & 0o777).toString(8)).toBe('600');
  });
});
