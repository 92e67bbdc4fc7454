/**
 * The password-check child process (see password-check-protocol.ts). Kept apart from the agent
 * so a PAM module that sleeps (pam_unix waits ~2 s after a failure), blocks or crashes costs
 * only this process. Prints no secret; the password is wiped before exit.
 */
import { readSync, statSync, writeSync } from 'node:fs';
import { authenticateWithPam } from './pam.js';
import { CHILD_EXIT, MAX_PASSWORD_BYTES, MAX_REASON_BYTES, isValidNonce } from './password-check-protocol.js';
import { isValidPamServiceName, isValidPamUserName, successLine } from './password-check-protocol.js';

function main(): number {
  const [service, user, nonce, ...rest] = process.argv.slice(2);
  if (
    service === undefined ||
    user === undefined ||
    nonce === undefined ||
    rest.length > 0 ||
    !isValidPamServiceName(service) ||
    !isValidPamUserName(user) ||
    !isValidNonce(nonce)
  ) {
    return fail('usage: password-check-child <service> <user> <nonce> (password on stdin)');
  }
  // The agent checked this too; without the file PAM would silently use the "other" service.
  if (!statSync(`/etc/pam.d/${service}`, { throwIfNoEntry: false })?.isFile()) return fail(`no /etc/pam.d/${service}`);
  // One byte more than allowed, to tell "exactly the limit" from "over it".
  const buffer = Buffer.alloc(MAX_PASSWORD_BYTES + 1);
  try {
    const length = readAll(buffer);
    if (length > MAX_PASSWORD_BYTES) return fail(`password longer than ${MAX_PASSWORD_BYTES} bytes`);
    const password = buffer.subarray(0, length);
    if (length === 0 || password.includes(0)) return reject('empty password or NUL byte');
    const outcome = authenticateWithPam(service, user, password);
    if (outcome.result === 'ok') {
      writeSync(1, successLine(nonce));
      return CHILD_EXIT.ok;
    }
    return outcome.result === 'rejected' ? reject(outcome.reason) : fail(outcome.reason);
  } catch (error) {
    return fail(`internal error: ${(error as Error).message}`);
  } finally {
    buffer.fill(0);
  }
}

function readAll(buffer: Buffer): number {
  let length = 0;
  while (length < buffer.length) {
    const read = readSync(0, buffer, length, buffer.length - length, null);
    if (read === 0) break;
    length += read;
  }
  return length;
}

function reject(reason: string): number {
  say(reason);
  return CHILD_EXIT.rejected;
}

function fail(reason: string): number {
  say(reason);
  return CHILD_EXIT.unavailable;
}

function say(reason: string): void {
  writeSync(2, `${reason.replace(/[^\x20-\x7e]/g, '?').slice(0, MAX_REASON_BYTES)}\n`);
}

process.exit(main());
