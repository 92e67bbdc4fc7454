/**
 * SQLite storage: what the console's fleet view needs beyond the directory (docs/console.md
 * "Fleet"): the policy version each workstation holds, its phones, ending one binding, and
 * lockout resets on their way to the workstation.
 */
import type { FleetBinding, LockoutReset } from '../records.js';
import type { Storage } from '../storage.js';
import { inTransaction, recordsById, type Database, type Shared } from './common.js';

export type FleetStore = Pick<
  Storage,
  | 'notePolicyVersion'
  | 'fleetBindings'
  | 'unbindDevice'
  | 'createLockoutReset'
  | 'pendingLockoutResets'
  | 'finishLockoutReset'
  | 'listLockoutResets'
>;

interface FleetBindingRow {
  device_id: string;
  workstation_id: string;
  user: string;
  created_at: number;
  device_name: string;
  device_last_seen_at: number | null;
}
interface ResetRow {
  id: string;
  tenant_id: string;
  workstation_id: string;
  user: string;
  requested_at: number;
  requested_by: string;
  done_at: number | null;
  result: string | null;
}

const fleetBinding = (row: FleetBindingRow): FleetBinding => ({
  deviceId: row.device_id,
  workstationId: row.workstation_id,
  user: row.user,
  createdAt: row.created_at,
  deviceName: row.device_name,
  deviceLastSeenAt: row.device_last_seen_at,
});
const reset = (row: ResetRow): LockoutReset => ({
  id: row.id,
  tenantId: row.tenant_id,
  workstationId: row.workstation_id,
  user: row.user,
  requestedAt: row.requested_at,
  requestedBy: row.requested_by,
  doneAt: row.done_at,
  result: row.result,
});

/** `replay` is the NORMAL-sync connection (open-database.ts openReplayConnection). */
export function fleetStore(shared: Shared, replay: Database): FleetStore {
  const { db } = shared;
  const notePolicy = replay.prepare(
    'UPDATE workstations SET policy_version = ? WHERE id = ? AND policy_version IS NOT ?',
  );
  const bindings = db.prepare<[string], FleetBindingRow>(
    `SELECT b.device_id, b.workstation_id, b.user, b.created_at, d.name AS device_name, d.last_seen_at AS device_last_seen_at
     FROM bindings b JOIN devices d ON d.id = b.device_id
     WHERE b.workstation_id IN (SELECT value FROM json_each(?)) AND d.revoked_at IS NULL ORDER BY b.workstation_id, b.user, b.created_at`,
  );
  const unbind = db.prepare(
    `DELETE FROM bindings WHERE device_id = ? AND workstation_id = ? AND user = ?
     AND device_id IN (SELECT id FROM devices WHERE tenant_id = ? AND revoked_at IS NULL)`,
  );
  const activeWorkstation = db.prepare<[string, string], { one: number }>(
    'SELECT 1 AS one FROM workstations WHERE id = ? AND tenant_id = ? AND removed_at IS NULL',
  );
  const insertReset = db.prepare(
    'INSERT INTO lockout_resets (id, tenant_id, workstation_id, user, requested_at, requested_by) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const resets = recordsById(db, 'lockout_resets', reset);
  const pending = db.prepare<[string], ResetRow>(
    'SELECT * FROM lockout_resets WHERE workstation_id = ? AND done_at IS NULL ORDER BY requested_at, id',
  );
  const finish = db.prepare('UPDATE lockout_resets SET done_at = ?, result = ? WHERE id = ? AND done_at IS NULL');
  const recent = db.prepare<[string, number], ResetRow>(
    'SELECT * FROM lockout_resets WHERE workstation_id = ? ORDER BY requested_at DESC, id DESC LIMIT ?',
  );

  return {
    async notePolicyVersion(workstationId, version) {
      notePolicy.run(version, workstationId, version);
    },
    async fleetBindings(workstationIds) {
      return workstationIds.length === 0 ? [] : bindings.all(JSON.stringify(workstationIds)).map(fleetBinding);
    },
    async unbindDevice(tenantId, b, audit) {
      return inTransaction(db, () => {
        if (unbind.run(b.deviceId, b.workstationId, b.user, tenantId).changes === 0)
          return { ok: false, code: 'not-found' } as const;
        shared.audit(audit);
        return { ok: true } as const;
      });
    },
    async createLockoutReset(input, audit) {
      return inTransaction(db, () => {
        if (!activeWorkstation.get(input.workstationId, input.tenantId))
          return { ok: false, code: 'not-found' } as const;
        insertReset.run(
          input.id,
          input.tenantId,
          input.workstationId,
          input.user,
          input.requestedAt,
          input.requestedBy,
        );
        shared.audit(audit);
        return { ok: true, reset: resets.written(input.id) } as const;
      });
    },
    async pendingLockoutResets(workstationId) {
      return pending.all(workstationId).map(reset);
    },
    async finishLockoutReset(done, audit) {
      return inTransaction(db, () => {
        const row = resets.row(done.id);
        if (!row || row.workstation_id !== done.workstationId) return { ok: false, code: 'not-found' } as const;
        if (row.done_at !== null) return { ok: true, reset: reset(row), created: false } as const;
        finish.run(done.doneAt, done.result, done.id);
        shared.audit(audit);
        return { ok: true, reset: resets.written(done.id), created: true } as const;
      });
    },
    async listLockoutResets(workstationId, limit) {
      return recent.all(workstationId, limit).map(reset);
    },
  };
}
