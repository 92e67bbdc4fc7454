/** Helpers the SQLite storage areas share: the audit writer, the revision counter, reading rows as records. */
import type { AuditEntry, Revision, SettingsOverrides } from '../records.js';
import type { Database } from './open-database.js';

export type { Database };

export interface Shared {
  readonly db: Database;
  /** Appends one audit line; call inside the transaction that does what it records. */
  audit(entry: AuditEntry): void;
  /** Increases the settings revision by one; call inside the transaction of the change. */
  bumpRevision(now: number): Revision;
  readRevision(): Revision;
}

export function makeShared(db: Database): Shared {
  const insertAudit = db.prepare(
    'INSERT INTO audit (tenant_id, time, actor, address, action, target, result, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const getMeta = db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?');
  const setMeta = db.prepare(
    'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  );
  const readRevision = (): Revision => ({
    revision: Number(getMeta.get('revision')?.value ?? '0'),
    at: Number(getMeta.get('revision_at')?.value ?? '0'),
  });
  return {
    db,
    audit(entry) {
      insertAudit.run(
        entry.tenantId,
        entry.time,
        entry.actor,
        entry.address,
        entry.action,
        entry.target,
        entry.result,
        entry.detail === null ? null : JSON.stringify(entry.detail),
      );
    },
    bumpRevision(now) {
      const next = { revision: readRevision().revision + 1, at: now };
      setMeta.run('revision', String(next.revision));
      setMeta.run('revision_at', String(next.at));
      return next;
    },
    readRevision,
  };
}

export function parseOverrides(json: string): SettingsOverrides {
  return JSON.parse(json) as SettingsOverrides;
}

/** Runs `fn` in one IMMEDIATE transaction (the write lock is taken at BEGIN, so no upgrade deadlock). */
export function inTransaction<T>(db: Database, fn: () => T): T {
  return db.transaction(fn).immediate();
}

/** The row when it belongs to `tenantId` and is not revoked: what a tenant may revoke (another tenant's is not found). */
export function liveRowOf<R extends { tenant_id: string; revoked_at: number | null }>(
  row: R | undefined,
  tenantId: string,
): R | undefined {
  return row && row.tenant_id === tenantId && row.revoked_at === null ? row : undefined;
}

/** The rows of one table, read by their `id` and mapped to records (see recordsById). */
export interface RecordsById<Row, T> {
  /** The row itself, for the checks a write makes first. */
  row(id: string): Row | undefined;
  /** The record, or null when there is none: what a `get…` call answers. */
  get(id: string): Promise<T | null>;
  /** The record of a row that exists, such as the one a write has just made. */
  written(id: string): T;
}

/** Prepares the read of `table` by id (`columns`, all by default), answering rows or records. */
export function recordsById<Row, T>(
  db: Database,
  table: string,
  record: (row: Row) => T,
  columns = '*',
): RecordsById<Row, T> {
  const byId = db.prepare<[string], Row>(`SELECT ${columns} FROM ${table} WHERE id = ?`);
  return {
    row: (id) => byId.get(id),
    async get(id) {
      const row = byId.get(id);
      return row === undefined ? null : record(row);
    },
    written: (id) => record(byId.get(id)!),
  };
}
