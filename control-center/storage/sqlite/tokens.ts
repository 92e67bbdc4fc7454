/** SQLite storage: admin tokens, install tokens, and enrollment (which spends an install token). */
import type { AdminToken, InstallToken } from '../records.js';
import type { Storage } from '../storage.js';
import { inTransaction, liveRowOf, type Shared } from './common.js';
import { workstation, type WorkstationRow } from './directory.js';

export type TokenStore = Pick<
  Storage,
  | 'createAdminToken'
  | 'findAdminToken'
  | 'listAdminTokens'
  | 'revokeAdminToken'
  | 'createInstallToken'
  | 'findInstallToken'
  | 'listInstallTokens'
  | 'revokeInstallToken'
  | 'enrollWorkstation'
>;

interface AdminTokenRow {
  id: string;
  tenant_id: string;
  name: string;
  created_at: number;
  revoked_at: number | null;
}
interface InstallTokenRow {
  id: string;
  tenant_id: string;
  group_id: string;
  note: string;
  created_at: number;
  expires_at: number;
  max_uses: number;
  uses: number;
  revoked_at: number | null;
}

const adminToken = (row: AdminTokenRow): AdminToken => ({
  id: row.id,
  tenantId: row.tenant_id,
  name: row.name,
  createdAt: row.created_at,
  revokedAt: row.revoked_at,
});
const installToken = (row: InstallTokenRow): InstallToken => ({
  id: row.id,
  tenantId: row.tenant_id,
  groupId: row.group_id,
  note: row.note,
  createdAt: row.created_at,
  expiresAt: row.expires_at,
  maxUses: row.max_uses,
  uses: row.uses,
  revokedAt: row.revoked_at,
});

export function tokenStore(shared: Shared): TokenStore {
  const { db } = shared;
  const ADMIN = 'id, tenant_id, name, created_at, revoked_at';
  const INSTALL = 'id, tenant_id, group_id, note, created_at, expires_at, max_uses, uses, revoked_at';
  const insertAdmin = db.prepare(
    'INSERT INTO admin_tokens (id, tenant_id, name, sha256, created_at) VALUES (?, ?, ?, ?, ?)',
  );
  const getAdmin = db.prepare<[string], AdminTokenRow>(`SELECT ${ADMIN} FROM admin_tokens WHERE id = ?`);
  const findAdmin = db.prepare<[string], AdminTokenRow>(
    `SELECT ${ADMIN} FROM admin_tokens WHERE sha256 = ? AND revoked_at IS NULL`,
  );
  const listAdmin = db.prepare<[string], AdminTokenRow>(
    `SELECT ${ADMIN} FROM admin_tokens WHERE tenant_id = ? ORDER BY created_at, id`,
  );
  const activeAdmins = db.prepare<[string], { n: number }>(
    'SELECT count(*) AS n FROM admin_tokens WHERE tenant_id = ? AND revoked_at IS NULL',
  );
  const revokeAdmin = db.prepare('UPDATE admin_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL');
  const insertInstall = db.prepare(
    'INSERT INTO install_tokens (id, tenant_id, group_id, sha256, note, created_at, expires_at, max_uses) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const getInstall = db.prepare<[string], InstallTokenRow>(`SELECT ${INSTALL} FROM install_tokens WHERE id = ?`);
  const findInstall = db.prepare<[string], InstallTokenRow>(`SELECT ${INSTALL} FROM install_tokens WHERE sha256 = ?`);
  const listInstall = db.prepare<[string], InstallTokenRow>(
    `SELECT ${INSTALL} FROM install_tokens WHERE tenant_id = ? ORDER BY created_at DESC, id`,
  );
  const revokeInstall = db.prepare('UPDATE install_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL');
  const useInstall = db.prepare('UPDATE install_tokens SET uses = uses + 1 WHERE id = ?');
  const byKey = db.prepare<[string], WorkstationRow>('SELECT * FROM workstations WHERE public_key = ?');
  const getWorkstation = db.prepare<[string], WorkstationRow>('SELECT * FROM workstations WHERE id = ?');
  const insertWorkstation = db.prepare(
    'INSERT INTO workstations (id, tenant_id, group_id, name, public_key, install_token_id, enrolled_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );

  return {
    async createAdminToken(token, audit) {
      return inTransaction(db, () => {
        insertAdmin.run(token.id, token.tenantId, token.name, token.sha256, token.now);
        shared.audit(audit);
        return adminToken(getAdmin.get(token.id)!);
      });
    },
    async findAdminToken(sha256) {
      const row = findAdmin.get(sha256);
      return row ? adminToken(row) : null;
    },
    async listAdminTokens(tenantId) {
      return listAdmin.all(tenantId).map(adminToken);
    },
    async revokeAdminToken(tenantId, id, now, audit) {
      return inTransaction(db, () => {
        if (!liveRowOf(getAdmin.get(id), tenantId)) return { ok: false, code: 'not-found' } as const;
        if (activeAdmins.get(tenantId)!.n <= 1) return { ok: false, code: 'last-token' } as const;
        revokeAdmin.run(now, id);
        shared.audit(audit);
        return { ok: true, token: adminToken(getAdmin.get(id)!) } as const;
      });
    },
    async createInstallToken(token, audit) {
      return inTransaction(db, () => {
        insertInstall.run(
          token.id,
          token.tenantId,
          token.groupId,
          token.sha256,
          token.note,
          token.createdAt,
          token.expiresAt,
          token.maxUses,
        );
        shared.audit(audit);
        return installToken(getInstall.get(token.id)!);
      });
    },
    async findInstallToken(sha256) {
      const row = findInstall.get(sha256);
      return row ? installToken(row) : null;
    },
    async listInstallTokens(tenantId) {
      return listInstall.all(tenantId).map(installToken);
    },
    async revokeInstallToken(tenantId, id, now, audit) {
      return inTransaction(db, () => {
        if (!liveRowOf(getInstall.get(id), tenantId)) return { ok: false, code: 'not-found' } as const;
        revokeInstall.run(now, id);
        shared.audit(audit);
        return { ok: true, token: installToken(getInstall.get(id)!) } as const;
      });
    },
    async enrollWorkstation(input, audit) {
      return inTransaction(db, () => {
        const token = findInstall.get(input.installTokenSha256);
        if (!token) return { ok: false, code: 'unknown-token' } as const;
        const existing = byKey.get(input.publicKey);
        if (existing) {
          // A retry after a lost answer: the same key gets the same workstation, no use counted.
          if (existing.removed_at !== null) return { ok: false, code: 'removed' } as const;
          if (existing.tenant_id !== token.tenant_id) return { ok: false, code: 'unknown-token' } as const;
          const result = { workstation: workstation(existing), created: false };
          shared.audit(audit(result));
          return { ok: true, ...result } as const;
        }
        if (token.revoked_at !== null) return { ok: false, code: 'revoked-token' } as const;
        if (token.expires_at <= input.now) return { ok: false, code: 'expired-token' } as const;
        if (token.uses >= token.max_uses) return { ok: false, code: 'used-up-token' } as const;
        useInstall.run(token.id);
        insertWorkstation.run(
          input.id,
          token.tenant_id,
          token.group_id,
          input.name,
          input.publicKey,
          token.id,
          input.now,
        );
        const result = { workstation: workstation(getWorkstation.get(input.id)!), created: true };
        shared.audit(audit(result));
        return { ok: true, ...result } as const;
      });
    },
  };
}
