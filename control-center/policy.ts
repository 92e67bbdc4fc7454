/**
 * Workstation Settings and signed policies (docs/control-center.md "Workstation Settings",
 * docs/online-protocol.md "Policy"): defaults ← tenant ← group, validated with the shared
 * schema; the document's version and time are the settings revision's, so one version is
 * always one document.
 */
import * as v from 'valibot';
import { SettingsSchema } from '../protocol/online/http-bodies.js';
import { signPolicy, type SignedPolicy } from '../protocol/online/signed-policy.js';
import type { Policy } from '../protocol/policy-settings.js';
import { CcError } from './errors.js';
import type { CcKeys } from './keys.js';
import type { SettingsOverrides, Workstation } from './storage/records.js';
import type { Storage } from './storage/storage.js';

export type Resolution = { ok: true; settings: Policy } | { ok: false; message: string };

export function resolveSettings(tenant: SettingsOverrides, group: SettingsOverrides): Resolution {
  const parsed = v.safeParse(SettingsSchema, { ...tenant, ...group });
  if (parsed.success) return { ok: true, settings: parsed.output };
  return { ok: false, message: parsed.issues.map((issue) => issue.message).join('; ') };
}

export async function settingsFor(storage: Storage, workstation: Workstation): Promise<Policy> {
  const [tenant, group] = await Promise.all([
    storage.getTenant(workstation.tenantId),
    storage.getGroup(workstation.groupId),
  ]);
  if (!tenant || !group)
    throw new CcError('internal', 'the workstation refers to a tenant or group that does not exist');
  const resolved = resolveSettings(tenant.overrides, group.overrides);
  if (!resolved.ok)
    throw new CcError('internal', `the settings of group ${group.name} do not resolve: ${resolved.message}`);
  return resolved.settings;
}

export async function signedPolicyFor(storage: Storage, keys: CcKeys, workstation: Workstation): Promise<SignedPolicy> {
  const [settings, revision] = await Promise.all([settingsFor(storage, workstation), storage.revision()]);
  return signPolicy(
    {
      v: 1,
      tenantId: workstation.tenantId,
      workstationId: workstation.id,
      version: revision.revision,
      issuedAt: revision.at,
      settings,
    },
    keys.signingKey,
  );
}
