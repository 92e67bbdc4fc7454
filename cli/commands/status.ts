import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { runsAsAdministrator } from '../../platform/users.js';
import { askOk, parseDetail } from '../ask.js';
import { userOption, withAgentOptions } from '../options.js';

interface PoolDetail {
  authenticatorId: string;
  charset: string;
  length: number;
  remaining: number;
  pinCount: number;
  expiresAt: string;
  expired: boolean;
  pending?: boolean;
}
interface BlePhoneDetail {
  deviceId: string;
  name: string;
  pairedAt: string;
}
interface UserDetail {
  user: string;
  offlineMode: boolean;
  pools: PoolDetail[];
  failures: number;
  locked: boolean;
  retryAfter: number | null;
  disabled: boolean;
  blePhones?: BlePhoneDetail[];
}

function describe(user: UserDetail): string {
  const lines = [`${user.user}: offline PINs ${user.offlineMode ? 'enabled' : 'not enabled on this computer'}`];
  if (user.pools.length === 0) lines.push('  no offline PINs enrolled');
  for (const pool of user.pools) {
    const state = pool.expired
      ? 'expired'
      : pool.remaining === 0
        ? 'used up'
        : `${pool.remaining} of ${pool.pinCount} left`;
    lines.push(
      `  ${pool.authenticatorId}${pool.pending ? ' (new pool, not used yet)' : ''}: ${state} (${pool.length}-character ${pool.charset}, expires ${pool.expiresAt.slice(0, 10)})`,
    );
  }
  for (const phone of user.blePhones ?? [])
    lines.push(`  ${phone.deviceId}: ${phone.name}, paired over Bluetooth ${phone.pairedAt.slice(0, 10)}`);
  if (user.disabled) lines.push('  offline PINs disabled after 10 failed attempts (latchkey reset, or sign in online)');
  else if (user.locked)
    lines.push(`  locked for ${user.retryAfter} more seconds after ${user.failures} failed attempts`);
  else if (user.failures > 0)
    lines.push(`  ${user.failures} failed attempt${user.failures === 1 ? '' : 's'} since the last success`);
  return lines.join('\n');
}

export function registerStatus(program: Command): void {
  const command = program
    .command('status')
    .description('show offline PIN status for a user (root without --user: every user)')
    .option('--user <name>', 'the user to show (default: yourself; root: everyone)', userOption)
    .option('--json', 'print JSON');
  withAgentOptions(command).action(
    async (options: { user?: string; json?: boolean; socket: string; timeout: number }) => {
      if (options.user === undefined && runsAsAdministrator()) {
        const reply = await askOk(options.socket, { op: 'list' }, options.timeout);
        const detail = parseDetail<{ users: UserDetail[]; unreadable: { file: string; reason: string }[] }>(reply);
        if (options.json) return void process.stdout.write(`${JSON.stringify(detail)}\n`);
        if (detail.users.length === 0 && detail.unreadable.length === 0)
          process.stdout.write('No user has offline PINs on this computer.\n');
        for (const user of detail.users) process.stdout.write(`${describe(user)}\n`);
        for (const entry of detail.unreadable) process.stdout.write(`UNREADABLE ${entry.file}: ${entry.reason}\n`);
        return;
      }
      const user = options.user ?? userInfo().username;
      const reply = await askOk(options.socket, { op: 'status', user }, options.timeout);
      const detail = parseDetail<UserDetail>(reply);
      if (options.json) {
        const { offlineMode, usable, remaining, low, locked, retryAfter, message, online, ble } = reply;
        return void process.stdout.write(
          `${JSON.stringify({ ...detail, offlineMode, online: online ?? false, ble: ble ?? false, usable, remaining, low, locked, retryAfter: retryAfter ?? null, message })}\n`,
        );
      }
      process.stdout.write(`${describe(detail)}\n  lock screen shows: ${reply.message}\n`);
    },
  );
}
