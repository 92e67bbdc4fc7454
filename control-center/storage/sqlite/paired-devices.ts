/** SQLite storage: pairings, devices, bindings and users (docs/online-protocol.md "Pairing"). */
import type { Binding, Device, Pairing, PairingState, UserSummary } from '../records.js';
import type { Storage } from '../storage.js';
import { inTransaction, liveRowOf, recordsById, type Shared } from './common.js';

export type PairingStore = Pick<
  Storage,
  | 'createPairing'
  | 'getPairing'
  | 'setWorkstationMac'
  | 'countPairingTry'
  | 'redeemPairing'
  | 'confirmPairing'
  | 'findDeviceBySigningKey'
  | 'getDevice'
  | 'listDevices'
  | 'revokeDevice'
  | 'bindingsOfDevice'
  | 'devicesFor'
  | 'isBound'
  | 'listUsers'
>;

interface PairingRow {
  id: string;
  tenant_id: string;
  workstation_id: string;
  user: string;
  created_at: number;
  expires_at: number;
  workstation_mac: string | null;
  tries: number;
  state: PairingState;
  device_id: string | null;
  device_signing_key: string | null;
  device_box_key: string | null;
  device_name: string | null;
  device_mac: string | null;
  device_credential_key: string | null;
}
interface DeviceRow {
  id: string;
  tenant_id: string;
  name: string;
  signing_key: string;
  box_key: string;
  created_at: number;
  last_seen_at: number | null;
  revoked_at: number | null;
}
interface BindingRow {
  device_id: string;
  workstation_id: string;
  user: string;
  created_at: number;
}

const pairing = (row: PairingRow): Pairing => ({
  id: row.id,
  tenantId: row.tenant_id,
  workstationId: row.workstation_id,
  user: row.user,
  createdAt: row.created_at,
  expiresAt: row.expires_at,
  workstationMac: row.workstation_mac,
  tries: row.tries,
  state: row.state,
  redemption:
    row.device_id === null
      ? null
      : {
          deviceId: row.device_id,
          signingKey: row.device_signing_key!,
          boxKey: row.device_box_key!,
          name: row.device_name!,
          ...(row.device_credential_key === null ? {} : { credentialKey: row.device_credential_key }),
          deviceMac: row.device_mac!,
        },
});
const device = (row: DeviceRow): Device => ({
  id: row.id,
  tenantId: row.tenant_id,
  name: row.name,
  signingKey: row.signing_key,
  boxKey: row.box_key,
  createdAt: row.created_at,
  lastSeenAt: row.last_seen_at,
  revokedAt: row.revoked_at,
});
const binding = (row: BindingRow): Binding => ({
  deviceId: row.device_id,
  workstationId: row.workstation_id,
  user: row.user,
  createdAt: row.created_at,
});

export function pairingStore(shared: Shared): PairingStore {
  const { db } = shared;
  const pairings = recordsById(db, 'pairings', pairing);
  const devices = recordsById(db, 'devices', device);
  const insertPairing = db.prepare(
    "INSERT INTO pairings (id, tenant_id, workstation_id, user, created_at, expires_at, state) VALUES (?, ?, ?, ?, ?, ?, 'open')",
  );
  const insertUser = db.prepare(
    'INSERT INTO users (tenant_id, name, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
  );
  const setMac = db.prepare('UPDATE pairings SET workstation_mac = ? WHERE id = ?');
  const countTry = db.prepare(
    "UPDATE pairings SET tries = tries + 1, state = CASE WHEN tries + 1 >= ? THEN 'burnt' ELSE state END WHERE id = ? AND state = 'open'",
  );
  const redeem = db.prepare(
    "UPDATE pairings SET state = 'redeemed', device_id = ?, device_signing_key = ?, device_box_key = ?, device_name = ?, device_mac = ?, device_credential_key = ? WHERE id = ? AND state = 'open'",
  );
  const setState = db.prepare('UPDATE pairings SET state = ? WHERE id = ?');
  const deviceByKey = db.prepare<[string], DeviceRow>('SELECT * FROM devices WHERE signing_key = ?');
  const insertDevice = db.prepare(
    'INSERT INTO devices (id, tenant_id, name, signing_key, box_key, created_at) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const listDevices = db.prepare<[string], DeviceRow>(
    'SELECT * FROM devices WHERE tenant_id = ? ORDER BY created_at, id',
  );
  const revokeDevice = db.prepare('UPDATE devices SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL');
  const insertBinding = db.prepare(
    'INSERT INTO bindings (device_id, workstation_id, user, pairing_id, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
  );
  const deleteBindings = db.prepare('DELETE FROM bindings WHERE device_id = ?');
  const bindingsOf = db.prepare<[string], BindingRow>(
    `SELECT b.device_id, b.workstation_id, b.user, b.created_at FROM bindings b JOIN workstations w ON w.id = b.workstation_id
     WHERE b.device_id = ? AND w.removed_at IS NULL ORDER BY b.created_at`,
  );
  const devicesFor = db.prepare<[string, string], { id: string }>(
    'SELECT d.id FROM bindings b JOIN devices d ON d.id = b.device_id WHERE b.workstation_id = ? AND b.user = ? AND d.revoked_at IS NULL',
  );
  const isBound = db.prepare<[string, string, string], { one: number }>(
    `SELECT 1 AS one FROM bindings b JOIN devices d ON d.id = b.device_id JOIN workstations w ON w.id = b.workstation_id
     WHERE b.device_id = ? AND b.workstation_id = ? AND b.user = ? AND d.revoked_at IS NULL AND w.removed_at IS NULL`,
  );
  const listUsers = db.prepare<[string], { name: string; created_at: number }>(
    'SELECT name, created_at FROM users WHERE tenant_id = ? ORDER BY name',
  );
  const tenantBindings = db.prepare<[string], BindingRow>(
    `SELECT b.device_id, b.workstation_id, b.user, b.created_at FROM bindings b JOIN devices d ON d.id = b.device_id
     WHERE d.tenant_id = ? AND d.revoked_at IS NULL ORDER BY b.created_at`,
  );

  return {
    async createPairing(input, audit) {
      return inTransaction(db, () => {
        if (pairings.row(input.id)) return { ok: false, code: 'id-taken' } as const;
        insertPairing.run(input.id, input.tenantId, input.workstationId, input.user, input.now, input.expiresAt);
        insertUser.run(input.tenantId, input.user, input.now);
        shared.audit(audit);
        return { ok: true, pairing: pairings.written(input.id) } as const;
      });
    },
    getPairing: pairings.get,
    async setWorkstationMac(id, mac, now) {
      return inTransaction(db, () => {
        const row = pairings.row(id);
        if (row?.state !== 'open' || row.expires_at <= now) return { ok: false, code: 'not-open' } as const;
        if (row.workstation_mac !== null && row.workstation_mac !== mac)
          return { ok: false, code: 'different-mac' } as const;
        setMac.run(mac, id);
        return { ok: true, pairing: pairings.written(id) } as const;
      });
    },
    async countPairingTry(id, maxTries, _now, audit) {
      return inTransaction(db, () => {
        countTry.run(maxTries, id);
        const row = pairings.row(id);
        const result = { tries: row?.tries ?? 0, burnt: row?.state === 'burnt' };
        shared.audit({ ...audit, detail: { ...audit.detail, tries: result.tries, burnt: result.burnt } });
        return result;
      });
    },
    async redeemPairing(id, input, now, audit) {
      return inTransaction(db, () => {
        const row = pairings.row(id);
        if (row?.state !== 'open') return { ok: false, code: 'not-open' } as const;
        if (row.expires_at <= now) return { ok: false, code: 'expired' } as const;
        if (row.workstation_mac === null) return { ok: false, code: 'no-mac' } as const;
        let existing = deviceByKey.get(input.signingKey);
        if (existing && existing.revoked_at !== null) return { ok: false, code: 'revoked-device' } as const;
        if (existing && (existing.box_key !== input.boxKey || existing.tenant_id !== row.tenant_id))
          return { ok: false, code: 'key-mismatch' } as const;
        if (!existing) {
          insertDevice.run(input.newDeviceId, row.tenant_id, input.name, input.signingKey, input.boxKey, now);
          existing = devices.row(input.newDeviceId)!;
        }
        redeem.run(
          existing.id,
          input.signingKey,
          input.boxKey,
          input.name,
          input.deviceMac,
          input.credentialKey ?? null,
          id,
        );
        shared.audit(audit(existing.id));
        return { ok: true, pairing: pairings.written(id), device: device(existing) } as const;
      });
    },
    async confirmPairing(id, accept, now, audit) {
      return inTransaction(db, () => {
        const row = pairings.row(id);
        if (row?.state !== 'redeemed') return { ok: false, code: 'not-redeemed' } as const;
        if (row.expires_at <= now) return { ok: false, code: 'expired' } as const;
        setState.run(accept ? 'confirmed' : 'rejected', id);
        if (accept) insertBinding.run(row.device_id, row.workstation_id, row.user, id, now);
        shared.audit(audit);
        return { ok: true, pairing: pairings.written(id) } as const;
      });
    },
    async findDeviceBySigningKey(signingKey) {
      const row = deviceByKey.get(signingKey);
      return row ? device(row) : null;
    },
    getDevice: devices.get,
    async listDevices(tenantId, query) {
      return listDevices
        .all(tenantId)
        .map((row) => ({ ...device(row), bindings: bindingsOf.all(row.id).map(binding) }))
        .filter((entry) => query.user === undefined || entry.bindings.some((b) => b.user === query.user));
    },
    async revokeDevice(tenantId, id, now, audit) {
      return inTransaction(db, () => {
        if (!liveRowOf(devices.row(id), tenantId)) return { ok: false, code: 'not-found' } as const;
        revokeDevice.run(now, id);
        deleteBindings.run(id);
        shared.audit(audit);
        return { ok: true, device: devices.written(id) } as const;
      });
    },
    async bindingsOfDevice(deviceId) {
      return bindingsOf.all(deviceId).map(binding);
    },
    async devicesFor(workstationId, user) {
      return devicesFor.all(workstationId, user).map((row) => row.id);
    },
    async isBound(deviceId, workstationId, user) {
      return isBound.get(deviceId, workstationId, user) !== undefined;
    },
    async listUsers(tenantId): Promise<UserSummary[]> {
      const byUser = new Map<string, { devices: Set<string>; workstations: Set<string> }>();
      for (const row of tenantBindings.all(tenantId)) {
        const entry = byUser.get(row.user) ?? { devices: new Set(), workstations: new Set() };
        entry.devices.add(row.device_id);
        entry.workstations.add(row.workstation_id);
        byUser.set(row.user, entry);
      }
      return listUsers.all(tenantId).map((row) => ({
        user: row.name,
        createdAt: row.created_at,
        devices: [...(byUser.get(row.name)?.devices ?? [])],
        workstations: [...(byUser.get(row.name)?.workstations ?? [])],
      }));
    },
  };
}
