/**
 * What any Storage backend must do (control-center/storage/storage.ts), as one suite a backend
 * runs with its own factory: SQLite today (sqlite-storage.test.ts), PostgreSQL later. Each
 * writing method is atomic, checks its own preconditions, and appends its audit line with it.
 */
import { describe, expect, it } from 'vitest';
import { newId } from '../../protocol/online/ids.js';
import type { AuditEntry } from '../../control-center/storage/records.js';
import type { Storage } from '../../control-center/storage/storage.js';
import { acceptedEvent } from './workstation-event.js';

export interface StorageFactory {
  /** A fresh, empty store; `reopen` opens the same data again after `close`. */
  create(): Promise<{ storage: Storage; reopen(): Promise<Storage> }>;
}

const NOW = 1_800_000_000_000;
const audit = (action: string): AuditEntry => ({
  time: NOW,
  tenantId: null,
  actor: 'system',
  address: null,
  action,
  target: null,
  result: 'ok',
  detail: null,
});
const key = () => newId('t').slice(2, 45).padEnd(43, 'A');

async function workstation(storage: Storage, maxUses = 10, expiresAt = NOW + 60_000) {
  const tenant = await storage.defaultTenant();
  const group = (await storage.listGroups(tenant.id))[0]!;
  const sha256 = key();
  await storage.createInstallToken(
    { id: newId('it'), tenantId: tenant.id, groupId: group.id, note: '', createdAt: NOW, expiresAt, maxUses, sha256 },
    audit('install-token.create'),
  );
  const enrolled = await storage.enrollWorkstation(
    { id: newId('ws'), name: 'w', publicKey: key(), installTokenSha256: sha256, now: NOW },
    () => audit('enroll'),
  );
  if (!enrolled.ok) throw new Error(enrolled.code);
  return { tenant, group, sha256, workstation: enrolled.workstation };
}

async function openPairing(storage: Storage, workstationId: string, tenantId: string, withMac = true) {
  const id = newId('pc').slice(3, 8);
  await storage.createPairing(
    { id, workstationId, tenantId, user: 'alice', now: NOW, expiresAt: NOW + 600_000 },
    audit('pairing.create'),
  );
  if (withMac) await storage.setWorkstationMac(id, 'M'.repeat(43), NOW);
  return id;
}

const redemption = () => ({
  signingKey: key(),
  boxKey: key(),
  name: 'phone',
  deviceMac: 'D'.repeat(43),
  newDeviceId: newId('dev'),
});

export function describeStorageContract(name: string, factory: StorageFactory): void {
  describe(`Storage contract: ${name}`, () => {
    it('starts with a default tenant and group at revision 1, and reopens to the same', async () => {
      const { storage, reopen } = await factory.create();
      const tenant = await storage.defaultTenant();
      expect((await storage.listGroups(tenant.id)).filter((g) => g.isDefault)).toHaveLength(1);
      expect((await storage.revision()).revision).toBe(1);
      await storage.close();
      const again = await reopen();
      expect((await again.defaultTenant()).id).toBe(tenant.id);
      await again.close();
    });

    it('increases the revision by exactly one per settings change or move, and never loses it', async () => {
      const { storage, reopen } = await factory.create();
      const { tenant, workstation: ws } = await workstation(storage);
      await storage.setOverrides({ tenantId: tenant.id }, { offlineMode: true }, NOW, audit('settings.set'));
      const other = await storage.createGroup(
        { id: newId('g'), tenantId: tenant.id, name: 'lab', now: NOW },
        audit('group.create'),
      );
      if (!other.ok) throw new Error(other.code);
      await storage.moveWorkstation(tenant.id, ws.id, other.group.id, NOW, audit('workstation.move'));
      expect((await storage.revision()).revision).toBe(3);
      await storage.close();
      const again = await reopen();
      expect((await again.revision()).revision).toBe(3);
      await again.close();
    });

    it('spends install tokens once per new key, and refuses used-up, expired and unknown ones', async () => {
      const { storage } = await factory.create();
      const { sha256, workstation: ws } = await workstation(storage, 1);
      const same = await storage.enrollWorkstation(
        { id: newId('ws'), name: 'w', publicKey: ws.publicKey, installTokenSha256: sha256, now: NOW },
        () => audit('enroll'),
      );
      expect(same).toMatchObject({ ok: true, created: false, workstation: { id: ws.id } });
      const again = await storage.enrollWorkstation(
        { id: newId('ws'), name: 'w', publicKey: key(), installTokenSha256: sha256, now: NOW },
        () => audit('enroll'),
      );
      expect(again).toEqual({ ok: false, code: 'used-up-token' });
      const expired = await workstation(storage, 10, NOW).catch((error: Error) => error.message);
      expect(expired).toBe('expired-token');
      expect(
        await storage.enrollWorkstation(
          { id: newId('ws'), name: 'w', publicKey: key(), installTokenSha256: key(), now: NOW },
          () => audit('enroll'),
        ),
      ).toEqual({ ok: false, code: 'unknown-token' });
      await storage.close();
    });

    it('redeems a pairing once even when two redemptions race, never before the MAC, and burns it at the try limit', async () => {
      const { storage } = await factory.create();
      const { tenant, workstation: ws } = await workstation(storage);
      const noMac = await openPairing(storage, ws.id, tenant.id, false);
      expect(await storage.redeemPairing(noMac, redemption(), NOW, () => audit('redeem'))).toEqual({
        ok: false,
        code: 'no-mac',
      });
      const id = await openPairing(storage, ws.id, tenant.id);
      const results = await Promise.all([
        storage.redeemPairing(id, redemption(), NOW, () => audit('redeem')),
        storage.redeemPairing(id, redemption(), NOW, () => audit('redeem')),
      ]);
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(results.filter((r) => !r.ok)).toEqual([{ ok: false, code: 'not-open' }]);
      const burning = await openPairing(storage, ws.id, tenant.id);
      const counts = [];
      for (let i = 0; i < 5; i++) counts.push(await storage.countPairingTry(burning, 5, NOW, audit('redeem')));
      expect(counts.at(-1)).toEqual({ tries: 5, burnt: true });
      expect(await storage.redeemPairing(burning, redemption(), NOW, () => audit('redeem'))).toEqual({
        ok: false,
        code: 'not-open',
      });
      const late = await openPairing(storage, ws.id, tenant.id);
      expect(await storage.redeemPairing(late, redemption(), NOW + 600_000, () => audit('redeem'))).toEqual({
        ok: false,
        code: 'expired',
      });
      await storage.close();
    });

    it('keeps the first decision, relays pool deliveries idempotently, remembers nonces and dedupes events', async () => {
      const { storage } = await factory.create();
      const { tenant, workstation: ws } = await workstation(storage);
      const pairing = await openPairing(storage, ws.id, tenant.id);
      const redeemed = await storage.redeemPairing(pairing, redemption(), NOW, () => audit('redeem'));
      if (!redeemed.ok) throw new Error(redeemed.code);
      await storage.confirmPairing(pairing, true, NOW, audit('confirm'));
      const deviceId = redeemed.device.id;
      expect(await storage.devicesFor(ws.id, 'alice')).toEqual([deviceId]);
      expect(redeemed.pairing.redemption).not.toHaveProperty('credentialKey');
      const withKey = await openPairing(storage, ws.id, tenant.id);
      const credentialKey = key();
      const keyed = await storage.redeemPairing(withKey, { ...redemption(), credentialKey }, NOW, () => audit('r'));
      if (!keyed.ok) throw new Error(keyed.code);
      expect((await storage.getPairing(withKey))?.redemption?.credentialKey).toBe(credentialKey);

      const ar = newId('ar');
      await storage.createAuthRequest(
        {
          id: ar,
          workstationId: ws.id,
          user: 'alice',
          challenge: key(),
          intentId: null,
          credential: null,
          now: NOW,
          expiresAt: NOW + 60_000,
        },
        audit('ar'),
      );
      const decision = { deviceId, decision: 'approve' as const, signedAt: NOW, signature: 'S'.repeat(86) };
      const [first, second] = await Promise.all([
        storage.decideAuthRequest(ar, decision, NOW, audit('decide')),
        storage.decideAuthRequest(ar, { ...decision, decision: 'deny' }, NOW, audit('decide')),
      ]);
      expect([first.outcome, second.outcome]).toEqual(['decided', 'already-decided']);
      expect(second.request.decision?.decision).toBe('approve');
      expect(second.request.credential).toBeNull();
      expect(second.request.decision).not.toHaveProperty('release');

      // A credential request and its release are kept as they came (docs/windows.md §6.5).
      const withCredential = newId('ar');
      const credential = { requestKey: key(), copies: [{ deviceId, eph: key() }], signature: 'S'.repeat(86) };
      await storage.createAuthRequest(
        {
          id: withCredential,
          workstationId: ws.id,
          user: 'alice',
          challenge: key(),
          intentId: null,
          credential,
          now: NOW,
          expiresAt: NOW + 60_000,
        },
        audit('ar'),
      );
      expect((await storage.pendingAuthRequestsForDevice(deviceId, NOW))[0]?.credential).toEqual(credential);
      const release = { eph: key(), nonce: 'N'.repeat(16), ciphertext: 'C'.repeat(64) };
      const released = await storage.decideAuthRequest(withCredential, { ...decision, release }, NOW, audit('decide'));
      expect(released.request.decision?.release).toEqual(release);
      expect((await storage.getAuthRequest(withCredential))?.decision?.release).toEqual(release);

      const delivery = { workstationId: ws.id, user: 'alice', deviceId, createdAt: NOW };
      const older = newId('pd');
      expect(await storage.putPoolDelivery({ ...delivery, id: older, body: '{"a":1}' }, audit('pd'))).toMatchObject({
        ok: true,
        created: true,
      });
      expect(await storage.putPoolDelivery({ ...delivery, id: older, body: '{"a":1}' }, audit('pd'))).toMatchObject({
        ok: true,
        created: false,
      });
      expect(await storage.putPoolDelivery({ ...delivery, id: older, body: '{"a":2}' }, audit('pd'))).toEqual({
        ok: false,
        code: 'different-body',
      });
      const newer = newId('pd');
      await storage.putPoolDelivery({ ...delivery, id: newer, body: '{"a":3}' }, audit('pd'));
      expect((await storage.pendingPoolDeliveriesForDevice(deviceId)).map((d) => d.id)).toEqual([newer]);
      expect(await storage.confirmPoolDelivery(older, { poolId: 'p', signature: 'S' }, NOW, audit('confirm'))).toEqual({
        ok: false,
        code: 'superseded',
      });

      expect(await storage.rememberNonce(ws.id, 'n1', NOW + 600_000, NOW)).toBe(true);
      expect(await storage.rememberNonce(ws.id, 'n1', NOW + 600_000, NOW)).toBe(false);
      await storage.prune(NOW + 600_001);
      expect(await storage.rememberNonce(ws.id, 'n1', NOW + 1_200_000, NOW)).toBe(true);

      const event = {
        id: newId('ev'),
        time: NOW,
        type: 'verify',
        user: 'alice',
        result: 'accepted',
        reason: null,
        context: null,
      };
      expect(await storage.addEvents(ws.id, [event, event], NOW)).toEqual({ stored: 1, duplicates: 1 });
      const counted = {
        id: newId('ev'),
        time: NOW + 60_000,
        type: 'verify',
        user: 'mallory',
        result: 'locked',
        reason: 'hammering-delay',
        context: null,
        repeated: 795,
        since: NOW + 5,
      };
      expect(await storage.addEvents(ws.id, [counted], NOW + 61_000)).toEqual({ stored: 1, duplicates: 0 });
      const listed = (await storage.listEvents(ws.tenantId, { limit: 10 })).items;
      expect(listed[0]).toMatchObject({ id: counted.id, repeated: 795, since: NOW + 5 });
      expect(listed[1]).not.toHaveProperty('repeated');
      await storage.close();
    });

    it('keeps the fleet view: policy versions held, phones per workstation, one binding ended, lockout resets done once', async () => {
      const { storage, reopen } = await factory.create();
      const { tenant, workstation: ws } = await workstation(storage);
      expect(ws.policyVersion).toBeNull();
      await storage.notePolicyVersion(ws.id, 4);
      expect((await storage.getWorkstation(ws.id))!.policyVersion).toBe(4);
      const pairing = await openPairing(storage, ws.id, tenant.id);
      const redeemed = await storage.redeemPairing(pairing, redemption(), NOW, () => audit('redeem'));
      if (!redeemed.ok) throw new Error(redeemed.code);
      await storage.confirmPairing(pairing, true, NOW, audit('confirm'));
      const deviceId = redeemed.device.id;
      expect(await storage.fleetBindings([ws.id])).toEqual([
        { deviceId, workstationId: ws.id, user: 'alice', createdAt: NOW, deviceName: 'phone', deviceLastSeenAt: null },
      ]);
      expect(await storage.fleetBindings([])).toEqual([]);
      const binding = { deviceId, workstationId: ws.id, user: 'alice' };
      expect(await storage.unbindDevice('t_OTHER', binding, audit('device.unpair'))).toEqual({
        ok: false,
        code: 'not-found',
      });
      expect(await storage.unbindDevice(tenant.id, binding, audit('device.unpair'))).toEqual({ ok: true });
      expect(await storage.unbindDevice(tenant.id, binding, audit('device.unpair'))).toEqual({
        ok: false,
        code: 'not-found',
      });
      expect(await storage.devicesFor(ws.id, 'alice')).toEqual([]);
      expect((await storage.getDevice(deviceId))!.revokedAt).toBeNull(); // the phone keeps its key

      const request = {
        tenantId: tenant.id,
        workstationId: ws.id,
        user: 'alice',
        requestedAt: NOW,
        requestedBy: 'admin:at_X',
      };
      const id = newId('lr');
      expect(
        await storage.createLockoutReset({ ...request, id, tenantId: 't_OTHER' }, audit('lockout-reset.request')),
      ).toEqual({ ok: false, code: 'not-found' });
      expect(await storage.createLockoutReset({ ...request, id }, audit('lockout-reset.request'))).toMatchObject({
        ok: true,
        reset: { id, doneAt: null },
      });
      expect((await storage.pendingLockoutResets(ws.id)).map((r) => r.id)).toEqual([id]);
      expect(
        await storage.finishLockoutReset(
          { workstationId: 'ws_OTHER', id, result: 'cleared', doneAt: NOW + 1 },
          audit('lockout-reset.done'),
        ),
      ).toEqual({ ok: false, code: 'not-found' });
      expect(
        await storage.finishLockoutReset(
          { workstationId: ws.id, id, result: 'cleared', doneAt: NOW + 1 },
          audit('lockout-reset.done'),
        ),
      ).toMatchObject({ ok: true, created: true, reset: { doneAt: NOW + 1, result: 'cleared' } });
      expect(
        await storage.finishLockoutReset(
          { workstationId: ws.id, id, result: 'no-state', doneAt: NOW + 2 },
          audit('lockout-reset.done'),
        ),
      ).toMatchObject({ ok: true, created: false, reset: { result: 'cleared' } });
      expect(await storage.pendingLockoutResets(ws.id)).toEqual([]);
      await storage.close();
      const again = await reopen();
      expect(await again.listLockoutResets(ws.id, 10)).toMatchObject([{ id, result: 'cleared' }]);
      await again.close();
    });

    it('filters uploaded events by workstation, user, type and time, newest first', async () => {
      const { storage } = await factory.create();
      const { tenant, workstation: ws } = await workstation(storage);
      const { workstation: other } = await workstation(storage);
      await storage.addEvents(
        ws.id,
        [
          acceptedEvent(NOW, 'verify', 'alice'),
          acceptedEvent(NOW + 10, 'online-auth', 'alice'),
          acceptedEvent(NOW + 20, 'verify', 'bob'),
          acceptedEvent(NOW + 30, 'enroll', 'alice'),
        ],
        NOW,
      );
      await storage.addEvents(other.id, [acceptedEvent(NOW + 5, 'verify', 'alice')], NOW);
      const list = async (query: Omit<Parameters<Storage['listEvents']>[1], 'limit'>) =>
        (await storage.listEvents(tenant.id, { limit: 100, ...query })).items.map(
          (e) => `${e.type}:${e.user}@${e.time - NOW}`,
        );
      expect(await list({ workstationId: ws.id, types: ['verify', 'online-auth'] })).toEqual([
        'verify:bob@20',
        'online-auth:alice@10',
        'verify:alice@0',
      ]);
      expect(await list({ user: 'alice', types: ['verify'] })).toEqual(['verify:alice@5', 'verify:alice@0']);
      expect(await list({ since: NOW + 5, until: NOW + 20 })).toEqual([
        'verify:alice@5',
        'verify:bob@20',
        'online-auth:alice@10',
      ]);
      expect(await list({ types: [] })).toEqual([]);
      const page = await storage.listEvents(tenant.id, { limit: 2 });
      expect(page.items).toHaveLength(2);
      expect((await storage.listEvents(tenant.id, { limit: 100, before: page.next as number })).items).toHaveLength(3);
      await storage.close();
    });

    it('appends one audit line with every write, in the same transaction', async () => {
      const { storage } = await factory.create();
      const tenant = await storage.defaultTenant();
      const before = (await storage.listAudit(tenant.id, { limit: 1000 })).items.length;
      await storage.setOverrides({ tenantId: tenant.id }, { pinCount: 30 }, NOW, {
        ...audit('settings.set'),
        tenantId: tenant.id,
      });
      const refused = await storage.deleteGroup(tenant.id, (await storage.listGroups(tenant.id))[0]!.id, {
        ...audit('group.delete'),
        tenantId: tenant.id,
      });
      expect(refused).toEqual({ ok: false, code: 'default-group' });
      const entries = (await storage.listAudit(tenant.id, { limit: 1000 })).items;
      expect(entries.length).toBe(before + 1);
      expect(entries[0]).toMatchObject({ action: 'settings.set', detail: { revision: 2 } });
      await storage.close();
    });
  });
}
