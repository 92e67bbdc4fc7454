/**
 * Where the policy in force comes from (docs/configuration.md "policy"): the Control Center's
 * signed policy on an enrolled workstation, the embedded defaults on an enrolled one that has no
 * valid signed policy yet (never the config file's policy section), else the config file or the
 * defaults. One answer for `agent.ready` and for `latchkey doctor` (the status detail).
 */
import type { AgentConfig } from './config.js';
import type { OnlineService } from './online/online-service.js';
import type { SealingKeys } from './state/user-state-store.js';

export type PolicyOrigin =
  | { readonly source: 'control-center'; readonly version: number; readonly issuedAt: string }
  | { readonly source: 'config-file'; readonly file: string }
  | { readonly source: 'defaults'; readonly note?: string };

export function policyOrigin(
  online: Pick<OnlineService, 'standing'>,
  config: Pick<AgentConfig, 'source'>,
): PolicyOrigin {
  const standing = online.standing;
  if (standing !== null) {
    return standing.policyIssuedAt !== null && standing.policyVersion !== null
      ? {
          source: 'control-center',
          version: standing.policyVersion,
          issuedAt: new Date(standing.policyIssuedAt).toISOString(),
        }
      : { source: 'defaults', note: 'enrolled, no valid signed policy from the Control Center yet' };
  }
  return config.source === null ? { source: 'defaults' } : { source: 'config-file', file: config.source };
}

/** The same, as a person reads it in the log. */
export function describePolicyOrigin(origin: PolicyOrigin): string {
  switch (origin.source) {
    case 'control-center':
      return `the Control Center (signed, revision ${origin.version})`;
    case 'config-file':
      return `the config file ${origin.file}`;
    case 'defaults':
      return origin.note ? `embedded defaults (${origin.note})` : 'embedded defaults';
  }
}

/** Where the policy came from, the Control Center, the keystore and Bluetooth, for `latchkey doctor` (docs/ipc.md, status detail). */
export async function agentSetup(
  online: Pick<OnlineService, 'standing'>,
  config: Pick<AgentConfig, 'source' | 'keystore' | 'ble'>,
  keys: () => Promise<SealingKeys>,
) {
  const standing = online.standing;
  const policy = policyOrigin(online, config);
  const keystoreReady = await keys().then(
    () => true,
    () => false,
  );
  return {
    policy,
    controlCenter: standing && { url: standing.url, online: standing.online },
    keystore: { backend: config.keystore.backend, ready: keystoreReady },
    ble: { enabled: config.ble.enabled, transport: config.ble.transport },
  };
}
