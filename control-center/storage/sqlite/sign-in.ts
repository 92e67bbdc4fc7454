/** SQLite storage: sign-in intents and auth requests (docs/online-protocol.md "Online sign-in"). */
import type { CredentialRequestBody, ReleaseBody } from '../../../protocol/online/credential-release.js';
import type { AuthRequest, InboxAuthRequest, Intent } from '../records.js';
import type { Storage } from '../storage.js';
import { inTransaction, recordsById, type Shared } from './common.js';

export type SignInStore = Pick<
  Storage,
  | 'createIntent'
  | 'getIntent'
  | 'pendingIntents'
  | 'createAuthRequest'
  | 'getAuthRequest'
  | 'pendingAuthRequestsForDevice'
  | 'decideAuthRequest'
>;

interface IntentRow {
  id: string;
  workstation_id: string;
  user: string;
  device_id: string;
  created_at: number;
  expires_at: number;
  answered_by: string | null;
}
interface AuthRow {
  id: string;
  workstation_id: string;
  user: string;
  challenge: string;
  intent_id: string | null;
  created_at: number;
  expires_at: number;
  device_id: string | null;
  decision: 'approve' | 'deny' | null;
  signed_at: number | null;
  signature: string | null;
  credential: string | null;
  release: string | null;
}

const intent = (row: IntentRow): Intent => ({
  id: row.id,
  workstationId: row.workstation_id,
  user: row.user,
  deviceId: row.device_id,
  createdAt: row.created_at,
  expiresAt: row.expires_at,
  answeredBy: row.answered_by,
});
const authRequest = (row: AuthRow): AuthRequest => ({
  id: row.id,
  workstationId: row.workstation_id,
  user: row.user,
  challenge: row.challenge,
  intentId: row.intent_id,
  createdAt: row.created_at,
  expiresAt: row.expires_at,
  credential: row.credential === null ? null : (JSON.parse(row.credential) as CredentialRequestBody),
  decision:
    row.decision === null
      ? null
      : {
          deviceId: row.device_id!,
          decision: row.decision,
          signedAt: row.signed_at!,
          signature: row.signature!,
          ...(row.release === null ? {} : { release: JSON.parse(row.release) as ReleaseBody }),
        },
});

export function signInStore(shared: Shared): SignInStore {
  const { db } = shared;
  const insertIntent = db.prepare(
    'INSERT INTO intents (id, workstation_id, user, device_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const intents = recordsById(db, 'intents', intent);
  const pendingIntents = db.prepare<[string, number], IntentRow>(
    'SELECT * FROM intents WHERE workstation_id = ? AND answered_by IS NULL AND expires_at > ? ORDER BY created_at',
  );
  const answerIntent = db.prepare('UPDATE intents SET answered_by = ? WHERE id = ? AND answered_by IS NULL');
  const insertRequest = db.prepare(
    'INSERT INTO auth_requests (id, workstation_id, user, challenge, intent_id, created_at, expires_at, credential) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const requests = recordsById(db, 'auth_requests', authRequest);
  const pendingForDevice = db.prepare<[string, number], AuthRow & { workstation_name: string }>(
    `SELECT a.*, w.name AS workstation_name FROM bindings b
       JOIN devices d ON d.id = b.device_id
       JOIN auth_requests a ON a.workstation_id = b.workstation_id AND a.user = b.user
       JOIN workstations w ON w.id = a.workstation_id
     WHERE b.device_id = ? AND d.revoked_at IS NULL AND w.removed_at IS NULL AND a.decision IS NULL AND a.expires_at > ?
     ORDER BY a.created_at`,
  );
  const decide = db.prepare(
    'UPDATE auth_requests SET device_id = ?, decision = ?, signed_at = ?, signature = ?, release = ? WHERE id = ? AND decision IS NULL',
  );

  return {
    async createIntent(input, audit) {
      return inTransaction(db, () => {
        insertIntent.run(input.id, input.workstationId, input.user, input.deviceId, input.createdAt, input.expiresAt);
        shared.audit(audit);
        return intents.written(input.id);
      });
    },
    getIntent: intents.get,
    async pendingIntents(workstationId, now) {
      return pendingIntents.all(workstationId, now).map(intent);
    },
    async createAuthRequest(input, audit) {
      return inTransaction(db, () => {
        if (input.intentId !== null && answerIntent.run(input.id, input.intentId).changes === 0)
          return { ok: false, code: 'intent-answered' } as const;
        insertRequest.run(
          input.id,
          input.workstationId,
          input.user,
          input.challenge,
          input.intentId,
          input.now,
          input.expiresAt,
          input.credential === null ? null : JSON.stringify(input.credential),
        );
        shared.audit(audit);
        return { ok: true, request: requests.written(input.id) } as const;
      });
    },
    getAuthRequest: requests.get,
    async pendingAuthRequestsForDevice(deviceId, now): Promise<InboxAuthRequest[]> {
      return pendingForDevice
        .all(deviceId, now)
        .map((row) => ({ ...authRequest(row), workstationName: row.workstation_name }));
    },
    async decideAuthRequest(id, decision, now, audit) {
      return inTransaction(db, () => {
        const row = requests.row(id)!;
        if (row.decision !== null) return { outcome: 'already-decided', request: authRequest(row) } as const;
        if (row.expires_at <= now) return { outcome: 'expired', request: authRequest(row) } as const;
        decide.run(
          decision.deviceId,
          decision.decision,
          decision.signedAt,
          decision.signature,
          decision.release === undefined ? null : JSON.stringify(decision.release),
          id,
        );
        shared.audit(audit);
        return { outcome: 'decided', request: requests.written(id) } as const;
      });
    },
  };
}
