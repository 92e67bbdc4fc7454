/**
 * agent/online/event-uploader.ts on real files, with the Control Center's port in memory: the
 * audit reaches the CC across a rotation without a line lost or sent twice, counted refusals
 * carry their count, and a bad or old offset file never stops the queue.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditLog, rotatedAuditFile, type AuditEntry } from '../../../agent/state/audit-log.js';
import { createLogger } from '../../../platform/log.js';
import type { OnlineContext } from '../../../agent/online/online-context.js';
import { EVENTS_OFFSET_FILE, EventUploader } from '../../../agent/online/event-uploader.js';
import { makeTempDir } from '../../helpers/agent-harness.js';

const entry = (user: string, result = 'accepted'): AuditEntry => ({
  event: 'verify',
  user,
  authenticatorId: null,
  result,
  reason: result === 'accepted' ? null : 'hammering-delay',
  remaining: null,
  context: 'pam:login',
  peer: { pid: 1, uid: 0 },
});

async function setup(maxBytes = 1_000_000, coalesceMs = 60_000) {
  const dir = await makeTempDir();
  const auditFile = path.join(dir, 'audit.jsonl');
  const received: Array<Record<string, unknown>> = [];
  const logLines: string[] = [];
  const log = createLogger({ write: (line) => logLines.push(line) });
  const ctx = {
    log,
    link: {
      async call(_method: string, _path: string, body: { events: Array<Record<string, unknown>> }) {
        received.push(...body.events);
        return {};
      },
    },
  } as unknown as OnlineContext;
  const audit = new AuditLog(auditFile, log, maxBytes, coalesceMs);
  return { dir, auditFile, audit, received, logLines, uploader: () => new EventUploader(ctx, auditFile, dir) };
}

describe('sending the audit to the Control Center', () => {
  it('finishes the rotated file before the new one: every line once, in order', async () => {
    const { audit, received, uploader } = await setup(2_048);
    const upload = uploader();
    audit.append(entry('u0'), 1_000);
    expect(await upload.upload()).toBe(1);
    for (let i = 1; i < 12; i++) audit.append(entry(`u${i}`), 1_000 + i); // about one rotation's worth
    expect(await upload.upload()).toBe(11);
    expect(received.map((event) => event.user)).toEqual(Array.from({ length: 12 }, (_, i) => `u${i}`));
    expect(await upload.upload()).toBe(0);
    await audit.close();
  });

  it('a restarted agent goes on from the saved position, also across a rotation', async () => {
    const { audit, received, uploader } = await setup(2_048);
    audit.append(entry('u0'), 1_000);
    await uploader().upload();
    for (let i = 1; i < 12; i++) audit.append(entry(`u${i}`), 1_000 + i);
    await uploader().upload(); // a fresh uploader reads the offset file
    expect(received.map((event) => event.user)).toEqual(Array.from({ length: 12 }, (_, i) => `u${i}`));
    await audit.close();
  });

  it('says so when lines were rotated away twice before they could be sent, and goes on with the newest', async () => {
    const { auditFile, audit, received, logLines, uploader } = await setup(2_048);
    audit.append(entry('u0'), 1_000);
    const upload = uploader();
    await upload.upload();
    for (let i = 1; i < 40; i++) audit.append(entry(`u${i}`), 1_000 + i);
    const newest = (await fs.readFile(auditFile, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { user: string }).user);
    await upload.upload();
    expect(logLines.join('')).toContain('events.rotated-away');
    expect(received.map((event) => event.user).slice(1)).toEqual(newest);
    await fs.access(rotatedAuditFile(auditFile));
    await audit.close();
  });

  it('sends a counted refusal with its count and since', async () => {
    const { audit, received, uploader } = await setup(1_000_000, 60_000);
    for (let i = 0; i < 12; i++) audit.append(entry('mallory', 'locked'), 5_000 + i);
    await audit.close();
    await uploader().upload();
    expect(received).toHaveLength(6);
    expect(received.at(-1)).toMatchObject({
      user: 'mallory',
      result: 'locked',
      repeated: 7,
      since: 5_005,
      time: 5_011,
    });
  });

  it('an offset file it cannot read means "from the start" (the CC drops what it has), with a warning', async () => {
    const { dir, audit, received, logLines, uploader } = await setup();
    audit.append(entry('u0'), 1_000);
    await fs.writeFile(path.join(dir, EVENTS_OFFSET_FILE), '{"offset":"twelve"}', { mode: 0o600 });
    expect(await uploader().upload()).toBe(1);
    expect(logLines.join('')).toContain('events.offset-unreadable');
    await fs.writeFile(path.join(dir, EVENTS_OFFSET_FILE), `{"offset":0}`, { mode: 0o600 }); // an older agent's file: no inode
    expect(await uploader().upload()).toBe(1);
    expect(received.map((event) => event.user)).toEqual(['u0', 'u0']);
    await audit.close();
  });
});
