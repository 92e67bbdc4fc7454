/**
 * A managed workstation's identity (docs/online-protocol.md "Workstation enrollment"):
 * STATE_DIR/workstation.json (ids, the pinned Control Center keys, no secret) and the
 * workstation's Ed25519 private key in the keystore. Written once, at enrollment.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as v from 'valibot';
import { fromBase64url } from '../../protocol/online/base64url.js';
import { idPattern } from '../../protocol/online/ids.js';
import { ED25519, importPrivateKey, type CryptoKey } from '../../protocol/crypto/webcrypto.js';
import { writeFileDurably } from '../../platform/durable-file.js';
import type { Keystore } from '../../platform/keystore/keystore.js';
import { readStateFile } from '../../platform/json-file.js';

export const WORKSTATION_FILE = 'workstation.json';
const key32 = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{43}$/));

const IdentitySchema = v.strictObject({
  format: v.literal('latchkey-workstation'),
  version: v.literal(1),
  url: v.pipe(v.string(), v.url()),
  workstationId: v.pipe(v.string(), v.regex(idPattern('ws'))),
  tenantId: v.pipe(v.string(), v.regex(idPattern('t'))),
  name: v.pipe(v.string(), v.minLength(1), v.maxLength(128)),
  publicKey: key32,
  ccKey: key32,
  ccBoxKey: key32,
  keyName: v.pipe(v.string(), v.regex(/^workstation-key\/[0-9a-f]{32}$/)),
  enrolledAt: v.pipe(v.number(), v.safeInteger()),
});
export type WorkstationIdentity = v.InferOutput<typeof IdentitySchema>;

export class IdentityError extends Error {
  readonly code = 'workstation-identity';
}

export interface LoadedIdentity {
  readonly identity: WorkstationIdentity;
  readonly privateKey: CryptoKey;
  readonly ccKey: Uint8Array;
  readonly ccBoxKey: Uint8Array;
}

/** The identity, or null for an unmanaged workstation. A broken file or missing key is an error. */
export async function loadIdentity(stateDir: string, keystore: Keystore): Promise<LoadedIdentity | null> {
  const file = path.join(stateDir, WORKSTATION_FILE);
  const identity = await readStateFile(
    file,
    IdentitySchema,
    8192,
    'a workstation identity',
    (message, options) => new IdentityError(message, options),
  );
  if (identity === null) return null;
  const pkcs8 = await keystore.get(identity.keyName);
  try {
    return {
      identity,
      privateKey: await importPrivateKey(ED25519, pkcs8),
      ccKey: fromBase64url(identity.ccKey),
      ccBoxKey: fromBase64url(identity.ccBoxKey),
    };
  } finally {
    pkcs8.fill(0);
  }
}

export async function saveIdentity(stateDir: string, identity: WorkstationIdentity): Promise<void> {
  await writeFileDurably(
    path.join(stateDir, WORKSTATION_FILE),
    Buffer.from(`${JSON.stringify(identity, null, 1)}\n`),
    0o600,
  );
}

export async function identityExists(stateDir: string): Promise<boolean> {
  return fs.access(path.join(stateDir, WORKSTATION_FILE)).then(
    () => true,
    () => false,
  );
}
