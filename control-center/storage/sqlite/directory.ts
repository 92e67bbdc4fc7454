/** SQLite storage: meta, tenants, groups and their settings, the revision, workstations. */
import { newId } from '../../../protocol/online/ids.js';
import type { Group, Revision, Tenant, Workstation } from '../records.js';
import type { Storage } from '../storage.js';
import { inTransaction, parseOverrides, recordsById, type Shared } from './common.js';

export type DirectoryStore = Pick<
  Storage,
  | 'defaultTenant'
  | 'getMeta'
  | 'initMeta'
  | 'getTenant'
  | 'listGroups'
  | 'getGroup'
  | 'createGroup'
  | 'deleteGroup'
  | 'setOverrides'
  | 'revision'
  | 'getWorkstation'
  | 'listWorkstations'
  | 'moveWorkstation'
  | 'removeWorkstation'
>;

interface TenantRow {
  id: string;
  name: string;
  settings: string;
  created_at: number;
}
interface GroupRow {
  id: string;
  tenant_id: string;
  name: string;
  is_default: number;
  settings: string;
  created_at: number;
  workstations: number;
}
export interface WorkstationRow {
  id: string;
  tenant_id: string;
  group_id: string;
  name: string;
  public_key: string;
  install_token_id: string | null;
  enrolled_at: number;
  last_seen_at: number | null;
  removed_at: number | null;
  policy_version: number | null;
}

const tenant = (row: TenantRow): Tenant => ({
  id: row.id,
  name: row.name,
  overrides: parseOverrides(row.settings),
  createdAt: row.created_at,
});
const group = (row: GroupRow): Group => ({
  id: row.id,
  tenantId: row.tenant_id,
  name: row.name,
  isDefault: row.is_default === 1,
  overrides: parseOverrides(row.settings),
  createdAt: row.created_at,
  workstations: row.workstations,
});
export const workstation = (row: WorkstationRow): Workstation => ({
  id: row.id,
  tenantId: row.tenant_id,
  groupId: row.group_id,
  name: row.name,
  publicKey: row.public_key,
  installTokenId: row.install_token_id,
  enrolledAt: row.enrolled_at,
  lastSeenAt: row.last_seen_at,
  removedAt: row.removed_at,
  policyVersion: row.policy_version,
});

const GROUP_COLUMNS = `g.id, g.tenant_id, g.name, g.is_default, g.settings, g.created_at,
  (SELECT count(*) FROM workstations w WHERE w.group_id = g.id AND w.removed_at IS NULL) AS workstations`;

/** Creates the default tenant, its default group and revision 1 on a new database. */
export function bootstrapDirectory(shared: Shared, now: number): void {
  const { db } = shared;
  inTransaction(db, () => {
    if (db.prepare('SELECT 1 FROM tenants LIMIT 1').get() !== undefined) return;
    const tenantId = newId('t');
    db.prepare('INSERT INTO tenants (id, name, settings, created_at) VALUES (?, ?, ?, ?)').run(
      tenantId,
      'default',
      '{}',
      now,
    );
    db.prepare(
      'INSERT INTO groups (id, tenant_id, name, settings, is_default, created_at) VALUES (?, ?, ?, ?, 1, ?)',
    ).run(newId('g'), tenantId, 'default', '{}', now);
    shared.bumpRevision(now);
    shared.audit({
      time: now,
      tenantId,
      actor: 'system',
      address: null,
      action: 'control-center.created',
      target: tenantId,
      result: 'ok',
      detail: null,
    });
  });
}

export function directoryStore(shared: Shared): DirectoryStore {
  const { db } = shared;
  const getMeta = db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?');
  const insertMeta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING');
  const defaultTenant = db.prepare<[], TenantRow>('SELECT * FROM tenants ORDER BY created_at, id LIMIT 1');
  const tenants = recordsById(db, 'tenants', tenant);
  const listGroups = db.prepare<[string], GroupRow>(
    `SELECT ${GROUP_COLUMNS} FROM groups g WHERE g.tenant_id = ? ORDER BY g.is_default DESC, g.name`,
  );
  const getGroup = db.prepare<[string], GroupRow>(`SELECT ${GROUP_COLUMNS} FROM groups g WHERE g.id = ?`);
  const groupByName = db.prepare<[string, string], { id: string }>(
    'SELECT id FROM groups WHERE tenant_id = ? AND name = ?',
  );
  const insertGroup = db.prepare(
    'INSERT INTO groups (id, tenant_id, name, settings, is_default, created_at) VALUES (?, ?, ?, ?, 0, ?)',
  );
  const deleteGroup = db.prepare('DELETE FROM groups WHERE id = ?');
  const groupInUse = db.prepare<[string, string], { n: number }>(
    'SELECT (SELECT count(*) FROM workstations WHERE group_id = ?) + (SELECT count(*) FROM install_tokens WHERE group_id = ?) AS n',
  );
  const setTenantSettings = db.prepare('UPDATE tenants SET settings = ? WHERE id = ?');
  const setGroupSettings = db.prepare('UPDATE groups SET settings = ? WHERE id = ? AND tenant_id = ?');
  const workstations = recordsById(db, 'workstations', workstation);
  const listWorkstations = db.prepare<[string, string | null, string | null, string, number], WorkstationRow>(
    `SELECT * FROM workstations WHERE tenant_id = ? AND (? IS NULL OR group_id = ?) AND id > ? AND removed_at IS NULL ORDER BY id LIMIT ?`,
  );
  const moveWorkstation = db.prepare('UPDATE workstations SET group_id = ? WHERE id = ?');
  const removeWorkstation = db.prepare('UPDATE workstations SET removed_at = ? WHERE id = ?');

  const activeWorkstation = (tenantId: string, id: string): Workstation | null => {
    const row = workstations.row(id);
    return row && row.tenant_id === tenantId && row.removed_at === null ? workstation(row) : null;
  };

  return {
    async defaultTenant() {
      return tenant(defaultTenant.get()!);
    },
    async getMeta(key) {
      return getMeta.get(key)?.value ?? null;
    },
    async initMeta(values) {
      return inTransaction(db, () => {
        const out: Record<string, string> = {};
        for (const [key, value] of Object.entries(values)) {
          insertMeta.run(key, value);
          out[key] = getMeta.get(key)!.value;
        }
        return out;
      });
    },
    getTenant: tenants.get,
    async listGroups(tenantId) {
      return listGroups.all(tenantId).map(group);
    },
    async getGroup(id) {
      const row = getGroup.get(id);
      return row ? group(row) : null;
    },
    async createGroup(input, audit) {
      return inTransaction(db, () => {
        if (groupByName.get(input.tenantId, input.name)) return { ok: false, code: 'name-taken' } as const;
        insertGroup.run(input.id, input.tenantId, input.name, '{}', input.now);
        shared.audit(audit);
        return { ok: true, group: group(getGroup.get(input.id)!) } as const;
      });
    },
    async deleteGroup(tenantId, groupId, audit) {
      return inTransaction(db, () => {
        const row = getGroup.get(groupId);
        if (!row || row.tenant_id !== tenantId) return { ok: false, code: 'not-found' } as const;
        if (row.is_default === 1) return { ok: false, code: 'default-group' } as const;
        if (groupInUse.get(groupId, groupId)!.n > 0) return { ok: false, code: 'not-empty' } as const;
        deleteGroup.run(groupId);
        shared.audit(audit);
        return { ok: true } as const;
      });
    },
    async setOverrides(scope, overrides, now, audit) {
      return inTransaction(db, () => {
        const json = JSON.stringify(overrides);
        const changed =
          scope.groupId === undefined
            ? setTenantSettings.run(json, scope.tenantId)
            : setGroupSettings.run(json, scope.groupId, scope.tenantId);
        if (changed.changes === 0) return { ok: false, code: 'not-found' } as const;
        const revision = shared.bumpRevision(now);
        shared.audit({ ...audit, detail: { ...audit.detail, revision: revision.revision } });
        return { ok: true, revision } as const;
      });
    },
    async revision(): Promise<Revision> {
      return shared.readRevision();
    },
    getWorkstation: workstations.get,
    async listWorkstations(tenantId, query) {
      const rows = listWorkstations.all(
        tenantId,
        query.groupId ?? null,
        query.groupId ?? null,
        query.after ?? '',
        query.limit + 1,
      );
      const items = rows.slice(0, query.limit).map(workstation);
      return { items, next: rows.length > query.limit ? items.at(-1)!.id : null };
    },
    async moveWorkstation(tenantId, id, groupId, now, audit) {
      return inTransaction(db, () => {
        if (!activeWorkstation(tenantId, id)) return { ok: false, code: 'not-found' } as const;
        const target = getGroup.get(groupId);
        if (!target || target.tenant_id !== tenantId) return { ok: false, code: 'no-group' } as const;
        moveWorkstation.run(groupId, id);
        const revision = shared.bumpRevision(now);
        shared.audit({ ...audit, detail: { ...audit.detail, revision: revision.revision } });
        return { ok: true, workstation: workstations.written(id), revision } as const;
      });
    },
    async removeWorkstation(tenantId, id, now, audit) {
      return inTransaction(db, () => {
        if (!activeWorkstation(tenantId, id)) return { ok: false, code: 'not-found' } as const;
        removeWorkstation.run(now, id);
        shared.audit(audit);
        return { ok: true, workstation: workstations.written(id) } as const;
      });
    },
  };
}
