import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { acquireExclusiveLock, type ExclusiveLock } from '../../../platform/linux/file-lock.js';
import { distModule } from './helpers.js';

let directory: string;
let lockModule: string;
const children: ChildProcess[] = [];
const held: ExclusiveLock[] = [];

beforeAll(() => {
  lockModule = distModule('file-lock.js').url;
  directory = mkdtempSync(path.join(os.tmpdir(), 'latchkey-lock-'));
});

afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  for (const lock of held.splice(0)) await lock.release();
});

afterAll(() => {
  if (directory) rmSync(directory, { recursive: true, force: true });
});

/** Another process (the compiled module) that tries the lock and reports; "hold" keeps it. */
function otherProcess(file: string, hold: boolean): { child: ChildProcess; report: Promise<string> } {
  const script = `import { acquireExclusiveLock } from ${JSON.stringify(lockModule)};
try { await acquireExclusiveLock(process.env.LOCK_FILE); console.log('locked'); }
catch (error) { console.log(error.code); process.exit(0); }
if (process.env.HOLD) setInterval(() => {}, 60_000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    env: { LOCK_FILE: file, ...(hold ? { HOLD: '1' } : {}) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const report = new Promise<string>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').once('data', (line: string) => resolve(line.trim()));
    child.once('exit', (code) => reject(new Error(`the lock process exited (${code}) without reporting`)));
  });
  return { child, report };
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) =>
    child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve()),
  );
}

describe('acquireExclusiveLock (flock)', () => {
  it('creates the lock file with mode 0600 and refuses a second holder in the same process', async () => {
    const file = path.join(directory, 'same-process.lock');
    held.push(await acquireExclusiveLock(file));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await expect(acquireExclusiveLock(file)).rejects.toMatchObject({ name: 'SystemError', code: 'lock-held' });
  });

  it('refuses while another process holds it, and is free again once that process is killed -9', async () => {
    const file = path.join(directory, 'agent.lock');
    const holder = otherProcess(file, true);
    expect(await holder.report).toBe('locked');

    const refused = acquireExclusiveLock(file);
    await expect(refused).rejects.toMatchObject({ code: 'lock-held' });
    await expect(refused).rejects.toThrow(`another Latchkey agent is using ${directory} (lock held on ${file})`);

    holder.child.kill('SIGKILL');
    await exited(holder.child);
    held.push(await acquireExclusiveLock(file));
  });

  it('makes another process fail with lock-held while this one holds it, and lets it in after release', async () => {
    const file = path.join(directory, 'release.lock');
    const lock = await acquireExclusiveLock(file);
    expect(await otherProcess(file, false).report).toBe('lock-held');
    await lock.release();
    await lock.release(); // a second release does nothing
    expect(await otherProcess(file, false).report).toBe('locked');
  });

  it('refuses a lock file others can open, and a symbolic link', async () => {
    const open = path.join(directory, 'open.lock');
    writeFileSync(open, '');
    chmodSync(open, 0o644);
    await expect(acquireExclusiveLock(open)).rejects.toMatchObject({
      code: 'lock-unavailable',
      message: expect.stringMatching(/mode 0644/),
    });

    const link = path.join(directory, 'link.lock');
    symlinkSync(path.join(directory, 'target.lock'), link);
    await expect(acquireExclusiveLock(link)).rejects.toMatchObject({ code: 'lock-unavailable' });
  });
});
