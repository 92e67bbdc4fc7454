/**
 * The start most Control Center tests share (test/control-center/): a real Control Center, one
 * workstation enrolled with an install token, and for each user a phone of their own paired on it.
 */
import { enroll, installToken, newPhone, pair, startTestCc } from '../control-center/helpers.js';
import type { TestCc, TestPhone, TestWorkstation } from '../control-center/helpers.js';

/**
 * The Control Center, the workstation enrolled as `workstation`, then one phone a user in the
 * order of `users`, each named `<user>-phone`. The caller closes the Control Center.
 */
export async function startPairedWorkstation<const Users extends readonly string[]>(
  options: Parameters<typeof startTestCc>[0],
  workstation: string,
  users: Users,
): Promise<[TestCc, TestWorkstation, ...{ -readonly [K in keyof Users]: TestPhone }]> {
  const t = await startTestCc(options);
  const ws = await enroll(t, await installToken(t), workstation);
  const phones: TestPhone[] = [];
  for (const user of users) {
    const phone = await newPhone(t, `${user}-phone`);
    await pair(t, ws, phone, user);
    phones.push(phone);
  }
  return [t, ws, ...phones] as [TestCc, TestWorkstation, ...{ -readonly [K in keyof Users]: TestPhone }];
}
