/**
 * The SQLite implementation of the Control Center's Storage (docs/control-center.md), on
 * better-sqlite3: one connection, prepared statements, one IMMEDIATE transaction per write.
 */
import type { Storage } from '../storage.js';
import { auditStore } from './audit.js';
import { makeShared } from './common.js';
import { bootstrapDirectory, directoryStore } from './directory.js';
import { fleetStore } from './fleet.js';
import { openDatabase, openReplayConnection } from './open-database.js';
import { pairingStore } from './paired-devices.js';
import { relayStore } from './relay.js';
import { signInStore } from './sign-in.js';
import { tokenStore } from './tokens.js';

export interface SqliteStorage extends Storage {
  /** Size of the database file and its WAL after a checkpoint, in bytes (benchmarks). */
  checkpointAndMeasure(): Promise<{ databaseBytes: number; walBytes: number }>;
}

export function openSqliteStorage(file: string, now: number): SqliteStorage {
  const db = openDatabase(file);
  const shared = makeShared(db);
  bootstrapDirectory(shared, now);
  const replay = openReplayConnection(file);
  let closed = false;
  return {
    ...directoryStore(shared),
    ...tokenStore(shared),
    ...pairingStore(shared),
    ...signInStore(shared),
    ...relayStore(shared),
    ...auditStore(shared, replay),
    ...fleetStore(shared, replay),
    async checkpointAndMeasure() {
      db.pragma('wal_checkpoint(TRUNCATE)');
      const pages = db.pragma('page_count', { simple: true }) as number;
      const pageSize = db.pragma('page_size', { simple: true }) as number;
      const { statSync } = await import('node:fs');
      let walBytes = 0;
      try {
        walBytes = statSync(`${file}-wal`).size;
      } catch {
        walBytes = 0;
      }
      return { databaseBytes: pages * pageSize, walBytes };
    },
    async close() {
      if (closed) return;
      closed = true;
      replay.close();
      db.close();
    },
  };
}
