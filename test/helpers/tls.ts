/** A throwaway self-signed P-256 certificate and its key, made with openssl (for the HTTPS tests). */
import { spawnSync } from 'node:child_process';

export function makeSelfSignedCertificate(cert: string, key: string, subject: string, extra: string[] = []) {
  const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  return spawnSync('openssl', [...args, '-keyout', key, '-out', cert, '-days', '1', '-subj', subject, ...extra], {
    encoding: 'utf8',
  });
}
