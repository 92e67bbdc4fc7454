/**
 * Enrolling this workstation with a Control Center (docs/online-protocol.md "Workstation
 * enrollment"): a fresh Ed25519 key into the keystore, the install token, the CC's keys pinned
 * from its answer, the first signed policy cached. Idempotent: an enrolled workstation stays as is.
 */

import { ApiClient, type FetchLike } from '../../platform/api-client.js';
import { toHex } from '../../protocol/bytes.js';
import { fromBase64url, toBase64url } from '../../protocol/online/base64url.js';
import { transcript } from '../../protocol/online/canonical-json.js';
import { EnrollResponseSchema } from '../../protocol/online/http-bodies.js';
import { checkSignedPolicy } from '../../protocol/online/signed-policy.js';
import { ED25519, generateKeyPair, sign } from '../../protocol/crypto/webcrypto.js';
import type { Logger } from '../../platform/log.js';
import type { Keystore } from '../../platform/keystore/keystore.js';
import { PolicyCache } from './policy-cache.js';
import { identityExists, saveIdentity, type WorkstationIdentity } from './workstation-identity.js';
import { randomBytes, sha256 } from '../../protocol/crypto/hashes.js';

export interface EnrollOptions {
  readonly stateDir: string;
  readonly keystore: Keystore;
  readonly url: string;
  readonly installToken: string;
  readonly name: string;
  readonly log: Logger;
  readonly fetch?: FetchLike;
  readonly timeoutMs?: number;
}

export class EnrollmentError extends Error {
  readonly code = 'enrollment-failed';
}

export async function enrollWorkstation(options: EnrollOptions): Promise<WorkstationIdentity | null> {
  if (await identityExists(options.stateDir)) return null;
  if (!/^lk_install_[A-Za-z0-9_-]{43}$/.test(options.installToken))
    throw new EnrollmentError('the install token is malformed (lk_install_…)');
  const key = await generateKeyPair(ED25519);
  const keyName = `workstation-key/${toHex(randomBytes(16))}`;
  try {
    await options.keystore.create(keyName, key.pkcs8);
  } finally {
    key.pkcs8.fill(0);
  }
  const publicKey = toBase64url(key.publicKey);
  const installTokenSha256 = toBase64url(sha256(new TextEncoder().encode(options.installToken)));
  const proof = toBase64url(
    await sign(key.privateKey, transcript('latchkey-enroll-v1', { installTokenSha256, publicKey, name: options.name })),
  );
  const client = new ApiClient({ baseUrl: options.url, ...(options.fetch ? { fetch: options.fetch } : {}) });
  const answer = await client.call(
    'POST',
    '/v1/workstations/enroll',
    { installToken: options.installToken, name: options.name, publicKey, proof },
    EnrollResponseSchema,
    { timeoutMs: options.timeoutMs ?? 15_000 },
  );
  const ccKey = fromBase64url(answer.ccKey);
  const policyCheck = await checkSignedPolicy(
    { policy: answer.policy, signature: answer.signature },
    ccKey,
    answer.workstationId,
    0,
  );
  if (!policyCheck.ok)
    throw new EnrollmentError(
      `the Control Center's first policy does not verify with the key it sent: ${policyCheck.message}`,
    );
  const identity: WorkstationIdentity = {
    format: 'latchkey-workstation',
    version: 1,
    url: options.url,
    workstationId: answer.workstationId,
    tenantId: answer.tenantId,
    name: options.name,
    publicKey,
    ccKey: answer.ccKey,
    ccBoxKey: answer.ccBoxKey,
    keyName,
    enrolledAt: Date.now(),
  };
  await new PolicyCache(options.stateDir, ccKey, answer.workstationId, options.log).apply({
    policy: answer.policy,
    signature: answer.signature,
  });
  await saveIdentity(options.stateDir, identity);
  options.log.info('workstation.enrolled', {
    url: options.url,
    workstationId: answer.workstationId,
    policyVersion: answer.policy.version,
  });
  return identity;
}
