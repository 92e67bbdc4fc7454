/**
 * The last signed policy (docs/online-protocol.md "Policy"), cached in STATE_DIR/policy.json so
 * the workstation keeps enforcing it offline. A policy is applied only after checkSignedPolicy:
 * pinned key, this workstation, never older. Refusals are logged and change nothing.
 */
import path from 'node:path';
import { ownedByThisProcess } from '../../platform/secure-path.js';
import { checkSignedPolicy, type PolicyDocument, type SignedPolicy } from '../../protocol/online/signed-policy.js';
import type { Policy } from '../../protocol/policy-settings.js';
import { writeFileDurably } from '../../platform/durable-file.js';
import type { Logger } from '../../platform/log.js';
import * as v from 'valibot';
import { JsonFileError, readJsonFile } from '../../platform/json-file.js';

export const POLICY_FILE = 'policy.json';

export class PolicyCache {
  #current: PolicyDocument | null = null;
  #signed: SignedPolicy | null = null;

  constructor(
    private readonly stateDir: string,
    private readonly ccKey: Uint8Array,
    private readonly workstationId: string,
    private readonly log: Logger,
  ) {}

  get settings(): Policy | null {
    return this.#current?.settings ?? null;
  }

  get version(): number {
    return this.#current?.version ?? 0;
  }

  /** When the Control Center signed the policy in force (ms), or null before the first one. */
  get issuedAt(): number | null {
    return this.#current?.issuedAt ?? null;
  }

  /** Loads the cached policy, checking its signature again (a tampered cache is refused). */
  async load(): Promise<void> {
    const file = path.join(this.stateDir, POLICY_FILE);
    let json: unknown;
    try {
      // The schema, the signature and the version are checkSignedPolicy's, below.
      json = await readJsonFile(file, v.unknown(), ownedByThisProcess(0o022), 16384);
    } catch (error) {
      if (!(error instanceof JsonFileError && error.problem === 'missing'))
        this.log.error('policy.cache-unreadable', { file, error: error as Error });
      return;
    }
    const check = await checkSignedPolicy(json, this.ccKey, this.workstationId, 0);
    if (!check.ok) {
      this.log.error('policy.cache-refused', { file, code: check.code, reason: check.message });
      return;
    }
    this.#current = check.policy;
    this.#signed = json as SignedPolicy;
  }

  /** Applies a policy that arrived; returns whether it is now in force. */
  async apply(signed: unknown): Promise<boolean> {
    const check = await checkSignedPolicy(signed, this.ccKey, this.workstationId, this.version);
    if (!check.ok) {
      this.log.error('policy.refused', { code: check.code, reason: check.message, cachedVersion: this.version });
      return false;
    }
    if (check.policy.version === this.version && this.#signed !== null) return true;
    await writeFileDurably(path.join(this.stateDir, POLICY_FILE), Buffer.from(`${JSON.stringify(signed)}\n`), 0o600);
    this.#current = check.policy;
    this.#signed = signed as SignedPolicy;
    this.log.info('policy.applied', { version: check.policy.version, offlineMode: check.policy.settings.offlineMode });
    return true;
  }
}
