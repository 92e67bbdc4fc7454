/**
 * The SQLite schema, as numbered migrations (docs/control-center.md "Data layout"). A migration
 * is never edited once released: a change is a new entry. `schema_version` holds the level.
 */
export interface Migration {
  readonly version: number;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

      CREATE TABLE tenants (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, settings TEXT NOT NULL DEFAULT '{}', created_at INTEGER NOT NULL
      );
      CREATE TABLE groups (
        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), name TEXT NOT NULL,
        settings TEXT NOT NULL DEFAULT '{}', is_default INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL,
        UNIQUE (tenant_id, name)
      );
      CREATE UNIQUE INDEX groups_one_default ON groups (tenant_id) WHERE is_default = 1;

      CREATE TABLE admin_tokens (
        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), name TEXT NOT NULL,
        sha256 TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL, revoked_at INTEGER
      );
      CREATE TABLE install_tokens (
        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), group_id TEXT NOT NULL REFERENCES groups(id),
        sha256 TEXT NOT NULL UNIQUE, note TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
        max_uses INTEGER NOT NULL, uses INTEGER NOT NULL DEFAULT 0, revoked_at INTEGER
      );

      CREATE TABLE workstations (
        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), group_id TEXT NOT NULL REFERENCES groups(id),
        name TEXT NOT NULL, public_key TEXT NOT NULL UNIQUE, install_token_id TEXT REFERENCES install_tokens(id),
        enrolled_at INTEGER NOT NULL, last_seen_at INTEGER, removed_at INTEGER
      );
      CREATE INDEX workstations_group ON workstations (group_id);

      CREATE TABLE users (
        tenant_id TEXT NOT NULL REFERENCES tenants(id), name TEXT NOT NULL, created_at INTEGER NOT NULL,
        PRIMARY KEY (tenant_id, name)
      ) WITHOUT ROWID;
      CREATE TABLE devices (
        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), name TEXT NOT NULL,
        signing_key TEXT NOT NULL UNIQUE, box_key TEXT NOT NULL, created_at INTEGER NOT NULL,
        last_seen_at INTEGER, revoked_at INTEGER
      );
      CREATE TABLE bindings (
        device_id TEXT NOT NULL REFERENCES devices(id), workstation_id TEXT NOT NULL REFERENCES workstations(id),
        user TEXT NOT NULL, pairing_id TEXT NOT NULL, created_at INTEGER NOT NULL,
        PRIMARY KEY (device_id, workstation_id, user)
      ) WITHOUT ROWID;
      CREATE INDEX bindings_workstation_user ON bindings (workstation_id, user);

      CREATE TABLE pairings (
        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
        workstation_id TEXT NOT NULL REFERENCES workstations(id), user TEXT NOT NULL,
        created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, workstation_mac TEXT,
        tries INTEGER NOT NULL DEFAULT 0,
        state TEXT NOT NULL CHECK (state IN ('open', 'redeemed', 'confirmed', 'rejected', 'burnt')),
        device_id TEXT REFERENCES devices(id), device_signing_key TEXT, device_box_key TEXT, device_name TEXT, device_mac TEXT
      ) WITHOUT ROWID;

      CREATE TABLE intents (
        id TEXT PRIMARY KEY, workstation_id TEXT NOT NULL REFERENCES workstations(id), user TEXT NOT NULL,
        device_id TEXT NOT NULL REFERENCES devices(id), created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, answered_by TEXT
      ) WITHOUT ROWID;
      CREATE INDEX intents_open ON intents (workstation_id, expires_at) WHERE answered_by IS NULL;

      CREATE TABLE auth_requests (
        id TEXT PRIMARY KEY, workstation_id TEXT NOT NULL REFERENCES workstations(id), user TEXT NOT NULL,
        challenge TEXT NOT NULL, intent_id TEXT, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
        device_id TEXT, decision TEXT CHECK (decision IN ('approve', 'deny')), signed_at INTEGER, signature TEXT
      ) WITHOUT ROWID;
      CREATE INDEX auth_requests_pending ON auth_requests (workstation_id, user, expires_at) WHERE decision IS NULL;

      CREATE TABLE pool_deliveries (
        id TEXT PRIMARY KEY, workstation_id TEXT NOT NULL REFERENCES workstations(id), user TEXT NOT NULL,
        device_id TEXT NOT NULL REFERENCES devices(id), body TEXT NOT NULL, created_at INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'confirmed', 'superseded')),
        pool_id TEXT, signature TEXT, confirmed_at INTEGER
      ) WITHOUT ROWID;
      CREATE INDEX pool_deliveries_pending ON pool_deliveries (device_id, workstation_id, user) WHERE state = 'pending';

      CREATE TABLE events (
        id TEXT PRIMARY KEY, workstation_id TEXT NOT NULL REFERENCES workstations(id), time INTEGER NOT NULL,
        type TEXT NOT NULL, user TEXT NOT NULL, result TEXT NOT NULL, reason TEXT, context TEXT, received_at INTEGER NOT NULL
      );
      CREATE INDEX events_workstation ON events (workstation_id);

      CREATE TABLE recovery_pins (
        workstation_id TEXT NOT NULL REFERENCES workstations(id), user TEXT NOT NULL,
        eph TEXT NOT NULL, nonce TEXT NOT NULL, ciphertext TEXT NOT NULL, stored_at INTEGER NOT NULL, revealed_at INTEGER,
        PRIMARY KEY (workstation_id, user)
      ) WITHOUT ROWID;

      CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT, tenant_id TEXT, time INTEGER NOT NULL, actor TEXT NOT NULL, address TEXT,
        action TEXT NOT NULL, target TEXT, result TEXT NOT NULL, detail TEXT
      );
      CREATE INDEX audit_tenant ON audit (tenant_id, id);

      CREATE TABLE nonces (
        key_id TEXT NOT NULL, nonce TEXT NOT NULL, expires_at INTEGER NOT NULL, PRIMARY KEY (key_id, nonce)
      ) WITHOUT ROWID;
      CREATE INDEX nonces_expiry ON nonces (expires_at);
    `,
  },
  {
    // The web console's fleet view (docs/console.md): the policy version each workstation says it
    // holds, lockout resets an admin asked for, and the indexes the audit filters use.
    version: 2,
    sql: `
      ALTER TABLE workstations ADD COLUMN policy_version INTEGER;

      CREATE TABLE lockout_resets (
        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
        workstation_id TEXT NOT NULL REFERENCES workstations(id), user TEXT NOT NULL,
        requested_at INTEGER NOT NULL, requested_by TEXT NOT NULL, done_at INTEGER, result TEXT
      ) WITHOUT ROWID;
      CREATE INDEX lockout_resets_pending ON lockout_resets (workstation_id, requested_at) WHERE done_at IS NULL;

      CREATE INDEX events_user ON events (user);
      CREATE INDEX events_time ON events (time);
    `,
  },
  {
    // An agent's audit counts repeated refusals (docs/state-files.md "Audit log"): how many, since when.
    version: 3,
    sql: `
      ALTER TABLE events ADD COLUMN repeated INTEGER;
      ALTER TABLE events ADD COLUMN since INTEGER;
    `,
  },
  {
    // The phone's credential key and its release (docs/windows.md §6.3, §6.5): public keys and
    // ciphertext the Control Center relays and never interprets.
    version: 4,
    sql: `
      ALTER TABLE pairings ADD COLUMN device_credential_key TEXT;
      ALTER TABLE auth_requests ADD COLUMN credential TEXT;
      ALTER TABLE auth_requests ADD COLUMN release TEXT;
    `,
  },
];
