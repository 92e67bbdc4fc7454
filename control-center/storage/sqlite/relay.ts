/** SQLite storage: pool deliveries, uploaded events and recovery PIN boxes — what the CC relays or keeps sealed. */
import type { PoolDelivery, PoolDeliveryState, RecoveryPinBox, StoredEvent } from '../records.js';
import type { Storage } from '../storage.js';
import { inTransaction, recordsById, type Shared } from './common.js';

export type RelayStore = Pick<
  Storage,
  | 'putPoolDelivery'
  | 'getPoolDelivery'
  | 'pendingPoolDeliveriesForDevice'
  | 'confirmPoolDelivery'
  | 'addEvents'
  | 'listEvents'
  | 'putRecoveryPin'
  | 'getRecoveryPin'
  | 'markRecoveryPinRevealed'
>;

interface DeliveryRow {
  id: string;
  workstation_id: string;
  user: string;
  device_id: string;
  body: string;
  created_at: number;
  state: PoolDeliveryState;
  pool_id: string | null;
  signature: string | null;
  confirmed_at: number | null;
}
interface EventRow {
  rowid: number;
  id: string;
  workstation_id: string;
  time: number;
  type: string;
  user: string;
  result: string;
  reason: string | null;
  context: string | null;
  received_at: number;
  repeated: number | null;
  since: number | null;
}

const delivery = (row: DeliveryRow): PoolDelivery => ({
  id: row.id,
  workstationId: row.workstation_id,
  user: row.user,
  deviceId: row.device_id,
  body: row.body,
  createdAt: row.created_at,
  state: row.state,
  confirmation:
    row.pool_id === null ? null : { poolId: row.pool_id, signature: row.signature!, confirmedAt: row.confirmed_at! },
});
const event = (row: EventRow): StoredEvent => ({
  id: row.id,
  workstationId: row.workstation_id,
  time: row.time,
  type: row.type,
  user: row.user,
  result: row.result,
  reason: row.reason,
  context: row.context,
  receivedAt: row.received_at,
  ...(row.repeated !== null ? { repeated: row.repeated, since: row.since ?? row.time } : {}),
});

export function relayStore(shared: Shared): RelayStore {
  const { db } = shared;
  const deliveries = recordsById(db, 'pool_deliveries', delivery);
  const supersede = db.prepare(
    "UPDATE pool_deliveries SET state = 'superseded' WHERE workstation_id = ? AND user = ? AND device_id = ? AND state = 'pending'",
  );
  const insertDelivery = db.prepare(
    "INSERT INTO pool_deliveries (id, workstation_id, user, device_id, body, created_at, state) VALUES (?, ?, ?, ?, ?, ?, 'pending')",
  );
  const pendingForDevice = db.prepare<[string], DeliveryRow>(
    `SELECT p.* FROM pool_deliveries p JOIN workstations w ON w.id = p.workstation_id
     WHERE p.device_id = ? AND p.state = 'pending' AND w.removed_at IS NULL ORDER BY p.created_at`,
  );
  const confirm = db.prepare(
    "UPDATE pool_deliveries SET state = 'confirmed', pool_id = ?, signature = ?, confirmed_at = ? WHERE id = ? AND state = 'pending'",
  );
  const insertEvent = db.prepare(
    'INSERT INTO events (id, workstation_id, time, type, user, result, reason, context, received_at, repeated, since) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING',
  );
  const listEvents = db.prepare<
    [
      string,
      string | null,
      string | null,
      string | null,
      string | null,
      string | null,
      string | null,
      number,
      number,
      number,
      number,
    ],
    EventRow
  >(
    `SELECT e.rowid, e.* FROM events e JOIN workstations w ON w.id = e.workstation_id
     WHERE w.tenant_id = ? AND (? IS NULL OR e.workstation_id = ?) AND (? IS NULL OR e.user = ?)
       AND (? IS NULL OR e.type IN (SELECT value FROM json_each(?))) AND e.time >= ? AND e.time <= ?
       AND e.rowid < ? ORDER BY e.rowid DESC LIMIT ?`,
  );
  const putRecovery = db.prepare(
    `INSERT INTO recovery_pins (workstation_id, user, eph, nonce, ciphertext, stored_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (workstation_id, user) DO UPDATE SET eph = excluded.eph, nonce = excluded.nonce, ciphertext = excluded.ciphertext,
       stored_at = excluded.stored_at, revealed_at = NULL`,
  );
  // A box is only ever read whole, so its columns are selected under the record's names.
  const getRecovery = db.prepare<[string, string], RecoveryPinBox>(
    `SELECT workstation_id AS workstationId, user, eph, nonce, ciphertext, stored_at AS storedAt, revealed_at AS revealedAt
     FROM recovery_pins WHERE workstation_id = ? AND user = ?`,
  );
  const revealRecovery = db.prepare('UPDATE recovery_pins SET revealed_at = ? WHERE workstation_id = ? AND user = ?');

  return {
    async putPoolDelivery(input, audit) {
      return inTransaction(db, () => {
        const existing = deliveries.row(input.id);
        if (existing) {
          const same = existing.body === input.body && existing.workstation_id === input.workstationId;
          return same
            ? ({ ok: true, delivery: delivery(existing), created: false } as const)
            : ({ ok: false, code: 'different-body' } as const);
        }
        supersede.run(input.workstationId, input.user, input.deviceId);
        insertDelivery.run(input.id, input.workstationId, input.user, input.deviceId, input.body, input.createdAt);
        shared.audit(audit);
        return { ok: true, delivery: deliveries.written(input.id), created: true } as const;
      });
    },
    getPoolDelivery: deliveries.get,
    async pendingPoolDeliveriesForDevice(deviceId) {
      return pendingForDevice.all(deviceId).map(delivery);
    },
    async confirmPoolDelivery(id, confirmation, now, audit) {
      return inTransaction(db, () => {
        const row = deliveries.row(id)!;
        if (row.state === 'superseded') return { ok: false, code: 'superseded' } as const;
        if (row.state === 'confirmed') {
          const same = row.pool_id === confirmation.poolId && row.signature === confirmation.signature;
          return same
            ? ({ ok: true, delivery: delivery(row), created: false } as const)
            : ({ ok: false, code: 'different-confirmation' } as const);
        }
        confirm.run(confirmation.poolId, confirmation.signature, now, id);
        shared.audit(audit);
        return { ok: true, delivery: deliveries.written(id), created: true } as const;
      });
    },
    async addEvents(workstationId, events, now) {
      return inTransaction(db, () => {
        let stored = 0;
        for (const e of events)
          stored += insertEvent.run(
            e.id,
            workstationId,
            e.time,
            e.type,
            e.user,
            e.result,
            e.reason,
            e.context,
            now,
            e.repeated ?? null,
            e.repeated === undefined ? null : (e.since ?? e.time),
          ).changes;
        return { stored, duplicates: events.length - stored };
      });
    },
    async listEvents(tenantId, query) {
      const types = query.types === undefined ? null : JSON.stringify(query.types);
      const rows = listEvents.all(
        tenantId,
        query.workstationId ?? null,
        query.workstationId ?? null,
        query.user ?? null,
        query.user ?? null,
        types,
        types,
        query.since ?? 0,
        query.until ?? Number.MAX_SAFE_INTEGER,
        query.before ?? Number.MAX_SAFE_INTEGER,
        query.limit + 1,
      );
      const items = rows.slice(0, query.limit);
      return { items: items.map(event), next: rows.length > query.limit ? items.at(-1)!.rowid : null };
    },
    async putRecoveryPin(box, audit) {
      inTransaction(db, () => {
        putRecovery.run(box.workstationId, box.user, box.eph, box.nonce, box.ciphertext, box.storedAt);
        shared.audit(audit);
      });
    },
    async getRecoveryPin(workstationId, user) {
      return getRecovery.get(workstationId, user) ?? null;
    },
    async markRecoveryPinRevealed(workstationId, user, now, audit) {
      inTransaction(db, () => {
        revealRecovery.run(now, workstationId, user);
        shared.audit(audit);
      });
    },
  };
}
