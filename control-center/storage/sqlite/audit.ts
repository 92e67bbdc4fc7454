/** SQLite storage: the audit log, the signed-request nonce memory, and pruning of expired rows. */
import type { AuditRecord } from '../records.js';
import type { Storage } from '../storage.js';
import { inTransaction, type Database, type Shared } from './common.js';

export type AuditStore = Pick<Storage, 'appendAudit' | 'listAudit' | 'rememberNonce' | 'prune'>;

interface AuditRow {
  id: number;
  tenant_id: string | null;
  time: number;
  actor: string;
  address: string | null;
  action: string;
  target: string | null;
  result: string;
  detail: string | null;
}

/** Pairings and intents are kept this long after they expire (their audit lines stay forever). */
export const EXPIRED_RETENTION_MS = 24 * 60 * 60 * 1000;
/** last_seen_at is written at most this often per key, so a busy key does not write on every request. */
const LAST_SEEN_RESOLUTION_MS = 60_000;

const record = (row: AuditRow): AuditRecord => ({
  id: row.id,
  tenantId: row.tenant_id,
  time: row.time,
  actor: row.actor,
  address: row.address,
  action: row.action,
  target: row.target,
  result: row.result,
  detail: row.detail === null ? null : (JSON.parse(row.detail) as AuditRecord['detail']),
});

/** `replay` is the NORMAL-sync connection (open-database.ts openReplayConnection). */
export function auditStore(shared: Shared, replay: Database): AuditStore {
  const { db } = shared;
  const list = db.prepare<[string, number, number], AuditRow>(
    'SELECT * FROM audit WHERE tenant_id = ? AND id < ? ORDER BY id DESC LIMIT ?',
  );
  const remember = replay.prepare(
    'INSERT INTO nonces (key_id, nonce, expires_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
  );
  const seenWorkstation = replay.prepare(
    'UPDATE workstations SET last_seen_at = ? WHERE id = ? AND (last_seen_at IS NULL OR last_seen_at < ?)',
  );
  const seenDevice = replay.prepare(
    'UPDATE devices SET last_seen_at = ? WHERE id = ? AND (last_seen_at IS NULL OR last_seen_at < ?)',
  );
  const pruneNonces = db.prepare('DELETE FROM nonces WHERE expires_at < ?');
  const prunePairings = db.prepare('DELETE FROM pairings WHERE expires_at < ?');
  const pruneIntents = db.prepare('DELETE FROM intents WHERE expires_at < ?');

  return {
    async appendAudit(entry) {
      shared.audit(entry);
    },
    async listAudit(tenantId, query) {
      const rows = list.all(tenantId, query.before ?? Number.MAX_SAFE_INTEGER, query.limit + 1);
      const items = rows.slice(0, query.limit).map(record);
      return { items, next: rows.length > query.limit ? items.at(-1)!.id : null };
    },
    async rememberNonce(keyId, nonce, expiresAt, now) {
      return inTransaction(replay, () => {
        if (remember.run(keyId, nonce, expiresAt).changes === 0) return false;
        (keyId.startsWith('ws_') ? seenWorkstation : seenDevice).run(now, keyId, now - LAST_SEEN_RESOLUTION_MS);
        return true;
      });
    },
    async prune(now) {
      inTransaction(db, () => {
        pruneNonces.run(now);
        prunePairings.run(now - EXPIRED_RETENTION_MS);
        pruneIntents.run(now - EXPIRED_RETENTION_MS);
      });
    },
  };
}
