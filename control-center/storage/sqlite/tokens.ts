/** SQLite storage: admin tokens, install tokens, and enrollment (which spends an install token). */
import type { AdminToken, AuditEntry, InstallToken } from '../records.js';
import type { Outcome, Storage } from '../storage.js';
import { inTransaction, liveRowOf, recordsById, type Shared } from './common.js';
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

/** A kind of token kept by the SHA-256 of its secret, as admin tokens and install tokens are. */
interface TokenTable<Row, T> {
  readonly name: 'admin_tokens' | 'install_tokens';
  /** The columns a read answers (never the digest). */
  readonly columns: string;
  /** Whether a lookup by digest finds only tokens not revoked. */
  readonly findsLiveOnly: boolean;
  readonly order: string;
  readonly record: (row: Row) => T;
}

/** The reads, the creation and the revocation that both kinds of token share. */
function tokenTable<Row extends { tenant_id: string; revoked_at: number | null }, T>(
  shared: Shared,
  table: TokenTable<Row, T>,
) {
  const { db } = shared;
  const { name, columns, record } = table;
  const tokens = recordsById(db, name, record, columns);
  const byDigest = db.prepare<[string], Row>(
    `SELECT ${columns} FROM ${name} WHERE sha256 = ?${table.findsLiveOnly ? ' AND revoked_at IS NULL' : ''}`,
  );
  const byTenant = db.prepare<[string], Row>(
    `SELECT ${columns} FROM ${name} WHERE tenant_id = ? ORDER BY ${table.order}`,
  );
  const revoke = db.prepare(`UPDATE ${name} SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`);
  return {
    byDigest,
    /** Runs `insert` (which writes the token `id`) and appends `audit` in one transaction; answers the new token. */
    async create(id: string, audit: AuditEntry, insert: () => void): Promise<T> {
      return inTransaction(db, () => {
        insert();
        shared.audit(audit);
        return tokens.written(id);
      });
    },
    async find(sha256: string): Promise<T | null> {
      const row = byDigest.get(sha256);
      return row ? record(row) : null;
    },
    async list(tenantId: string): Promise<T[]> {
      return byTenant.all(tenantId).map(record);
    },
    /** Revokes the tenant's live token `id` unless `refusal` answers why not. */
    async revoke<C extends string = never>(
      tenantId: string,
      id: string,
      now: number,
      audit: AuditEntry,
      refusal: () => C | null = () => null,
    ): Promise<Outcome<{ token: T }, 'not-found' | C>> {
      return inTransaction(db, () => {
        if (!liveRowOf(tokens.row(id), tenantId)) return { ok: false, code: 'not-found' } as const;
        const refused = refusal();
        if (refused !== null) return { ok: false, code: refused } as const;
        revoke.run(now, id);
        shared.audit(audit);
        return { ok: true, token: tokens.written(id) } as const;
      });
    },
  };
}

export function tokenStore(shared: Shared): TokenStore {
  const { db } = shared;
  const admin = tokenTable(shared, {
    name: 'admin_tokens',
    columns: 'id, tenant_id, name, created_at, revoked_at',
    findsLiveOnly: true,
    order: 'created_at, id',
    record: adminToken,
  });
  const install = tokenTable(shared, {
    name: 'install_tokens',
    columns: 'id, tenant_id, group_id, note, created_at, expires_at, max_uses, uses, revoked_at',
    findsLiveOnly: false,
    order: 'created_at DESC, id',
    record: installToken,
  });
  const insertAdmin = db.prepare(
    'INSERT INTO admin_tokens (id, tenant_id, name, sha256, created_at) VALUES (?, ?, ?, ?, ?)',
  );
  const activeAdmins = db.prepare<[string], { n: number }>(
    'SELECT count(*) AS n FROM admin_tokens WHERE tenant_id = ? AND revoked_at IS NULL',
  );
  const insertInstall = db.prepare(
    'INSERT INTO install_tokens (id, tenant_id, group_id, sha256, note, created_at, expires_at, max_uses) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const useInstall = db.prepare('UPDATE install_tokens SET uses = uses + 1 WHERE id = ?');
  const byKey = db.prepare<[string], WorkstationRow>('SELECT * FROM workstations WHERE public_key = ?');
  const workstations = recordsById(db, 'workstations', workstation);
  const insertWorkstation = db.prepare(
    'INSERT INTO workstations (id, tenant_id, group_id, name, public_key, install_token_id, enrolled_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );

  return {
    createAdminToken: (token, audit) =>
      admin.create(token.id, audit, () =>
        insertAdmin.run(token.id, token.tenantId, token.name, token.sha256, token.now),
      ),
    findAdminToken: admin.find,
    listAdminTokens: admin.list,
    revokeAdminToken: (tenantId, id, now, audit) =>
      admin.revoke(tenantId, id, now, audit, () =>
        activeAdmins.get(tenantId)!.n <= 1 ? ('last-token' as const) : null,
      ),
    createInstallToken: (token, audit) =>
      install.create(token.id, audit, () =>
        insertInstall.run(
          token.id,
          token.tenantId,
          token.groupId,
          token.sha256,
          token.note,
          token.createdAt,
          token.expiresAt,
          token.maxUses,
        ),
      ),
    findInstallToken: install.find,
    listInstallTokens: install.list,
    revokeInstallToken: install.revoke,
    async enrollWorkstation(input, audit) {
      return inTransaction(db, () => {
        const token = install.byDigest.get(input.installTokenSha256);
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
        const result = { workstation: workstations.written(input.id), created: true };
        shared.audit(audit(result));
        return { ok: true, ...result } as const;
      });
    },
  };
}
