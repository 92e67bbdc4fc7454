/**
 * Opens the Control Center's SQLite database: created 0600, WAL, foreign keys, FULL sync,
 * migrations applied in one transaction, a database newer than this code refused
 * (docs/control-center.md "Data layout"). A second connection with NORMAL sync carries only
 * the signed-request nonces and last-seen times, written on every request.
 */
import { closeSync, openSync } from 'node:fs';
import type BetterSqlite3 from 'better-sqlite3';
import { describeFileError } from '../../../platform/file-errors.js';
import { requireCjs } from '../../../platform/load-cjs.js';
import { StartupError } from '../../errors.js';
import { MIGRATIONS } from './migrations.js';

export type Database = BetterSqlite3.Database;

const BetterSqlite = requireCjs('better-sqlite3') as typeof BetterSqlite3;

export const LATEST_SCHEMA_VERSION = MIGRATIONS.at(-1)!.version;

export function openDatabase(file: string): Database {
  // Create the file ourselves so it is 0600 from the start; SQLite gives -wal and -shm the same mode.
  try {
    closeSync(openSync(file, 'a', 0o600));
  } catch (error) {
    throw new StartupError('database-unreadable', describeFileError(error, file), { cause: error });
  }
  let db: Database;
  try {
    db = new BetterSqlite(file, { fileMustExist: true });
  } catch (error) {
    throw new StartupError(
      'database-unreadable',
      `the database ${file} cannot be opened: ${(error as Error).message}`,
      { cause: error },
    );
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    migrate(db, file);
  } catch (error) {
    db.close();
    if (error instanceof StartupError) throw error;
    throw new StartupError('database-unreadable', `the database ${file} cannot be used: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return db;
}

function migrate(db: Database, file: string): void {
  db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
    const current = row?.version ?? 0;
    if (current > LATEST_SCHEMA_VERSION) {
      throw new StartupError(
        'database-newer',
        `the database ${file} has schema version ${current}, newer than this Control Center understands (${LATEST_SCHEMA_VERSION}); run a newer release`,
      );
    }
    for (const migration of MIGRATIONS) if (migration.version > current) db.exec(migration.sql);
    if (row === undefined) db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(LATEST_SCHEMA_VERSION);
    else if (current < LATEST_SCHEMA_VERSION)
      db.prepare('UPDATE schema_version SET version = ?').run(LATEST_SCHEMA_VERSION);
  }).immediate();
}

/**
 * The connection for nonces and last-seen times. WAL with NORMAL sync survives a crash of the
 * process (the write is in the OS before the reply) and loses only the last commits on a power
 * cut; a nonce matters for 5 minutes, and FULL sync on every request would cost an fsync each
 * (bench/control-center-approvals.mjs).
 */
export function openReplayConnection(file: string): Database {
  const db = new BetterSqlite(file, { fileMustExist: true });
  db.pragma('foreign_keys = ON');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  return db;
}
