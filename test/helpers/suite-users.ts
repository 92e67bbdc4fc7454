/**
 * Test users for a suite that needs root (test/native/helpers/pam-env.ts): created before the
 * suite's tests, and removed after them together with the PAM services the suite wrote.
 */
import { beforeAll } from 'vitest';
import { createUser, removePamServicesAndUsers, type TestUser } from '../native/helpers/pam-env.js';
import { stopAfterAll } from './stop-after-all.js';

/**
 * One user per tag, each filled in before the tests run; `needs` says what root is for, in the
 * error a run as another user gets.
 */
export function testUsersForSuite<const Tags extends readonly string[]>(
  needs: string,
  ...tags: Tags
): { [K in keyof Tags]: TestUser } {
  const users = tags.map(() => ({}) as TestUser);
  const suite = stopAfterAll();
  beforeAll(() => {
    if (process.getuid?.() !== 0) throw new Error(`this suite needs root (${needs}); CI runs npm test as root`);
    suite.defer(() => removePamServicesAndUsers(...users.filter((user) => user.name !== undefined)));
    for (const [index, tag] of tags.entries()) Object.assign(users[index]!, createUser(tag));
  });
  return users as { [K in keyof Tags]: TestUser };
}
