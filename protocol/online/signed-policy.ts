/**
 * Signed policy documents (docs/online-protocol.md "Policy"): the Control Center signs, the
 * agent verifies against the key it pinned at enrollment and never goes back in version.
 */
import * as v from 'valibot';
import { PolicyInputSchema, type Policy } from '../policy-settings.js';
import { fromBase64url, toBase64url } from './base64url.js';
import { transcript, type CanonicalValue } from './canonical-json.js';
import { idPattern } from './ids.js';
import { sign, verify, type CryptoKey } from '../crypto/webcrypto.js';
import { refusal, type Refusal } from '../refusal.js';

export const POLICY_LABEL = 'latchkey-policy-v1';

export interface PolicyDocument {
  readonly v: 1;
  readonly tenantId: string;
  readonly workstationId: string;
  readonly version: number;
  readonly issuedAt: number;
  readonly settings: Policy;
}

export const PolicyDocumentSchema = v.strictObject({
  v: v.literal(1),
  tenantId: v.pipe(v.string(), v.regex(idPattern('t'))),
  workstationId: v.pipe(v.string(), v.regex(idPattern('ws'))),
  version: v.pipe(v.number(), v.safeInteger(), v.minValue(1)),
  issuedAt: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
  settings: PolicyInputSchema,
});

export interface SignedPolicy {
  readonly policy: PolicyDocument;
  /** base64url Ed25519 signature by the CC key over the latchkey-policy-v1 transcript. */
  readonly signature: string;
}

export async function signPolicy(policy: PolicyDocument, ccPrivateKey: CryptoKey): Promise<SignedPolicy> {
  return {
    policy,
    signature: toBase64url(await sign(ccPrivateKey, transcript(POLICY_LABEL, policy as unknown as CanonicalValue))),
  };
}

export type PolicyCheck =
  | { ok: true; policy: PolicyDocument }
  | Refusal<'policy-malformed' | 'policy-signature' | 'policy-wrong-workstation' | 'policy-older'>;

/**
 * The one check on a policy that arrived (docs/online-protocol.md "Policy"): shape and ranges,
 * the CC's signature, this workstation, and never older than what is cached.
 */
export async function checkSignedPolicy(
  input: unknown,
  ccKey: Uint8Array,
  workstationId: string,
  cachedVersion: number,
): Promise<PolicyCheck> {
  const parsed = v.safeParse(v.strictObject({ policy: PolicyDocumentSchema, signature: v.string() }), input);
  if (!parsed.success) {
    const issues = parsed.issues.map((i) => `${(i.path ?? []).map((p) => String(p.key)).join('.')} ${i.message}`);
    return refusal('policy-malformed', `the policy is malformed: ${issues.join('; ')}`);
  }
  const { policy, signature } = parsed.output;
  let signatureBytes: Uint8Array;
  try {
    signatureBytes = fromBase64url(signature);
  } catch {
    return refusal('policy-signature', 'the policy signature is not base64url');
  }
  // Verify over the document as received (after validation it is the same object, defaults filled in is not allowed).
  const received = (input as { policy: CanonicalValue }).policy;
  if (!(await verify(ccKey, signatureBytes, transcript(POLICY_LABEL, received))))
    return refusal('policy-signature', 'the policy is not signed by the pinned Control Center key');
  if (policy.workstationId !== workstationId)
    return refusal('policy-wrong-workstation', `the policy is for ${policy.workstationId}, not this workstation`);
  if (policy.version < cachedVersion)
    return refusal('policy-older', `the policy version ${policy.version} is older than the cached ${cachedVersion}`);
  return { ok: true, policy: policy as PolicyDocument };
}
