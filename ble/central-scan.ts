/**
 * Finding a phone (docs/ble-protocol.md §2, §7): scan for Latchkey advertisements until one
 * whose tag the matcher recognises shows up, connectable and loud enough, or the deadline.
 */
import { performance } from 'node:perf_hooks';
import type { Noble, Peripheral } from '@stoprocent/noble';
import { withTimeout, type BleUnlockFailureCode } from './errors.js';
import { tagFromManufacturerData, type TagMatcher } from './protocol/tag.js';

export interface FoundPhone<Id> {
  readonly peripheral: Peripheral;
  readonly id: Id;
  readonly tag: Uint8Array;
}

export interface FindOptions<Id> {
  readonly matcher: TagMatcher<Id>;
  /** Only these ids (default: any the matcher knows). */
  readonly ids?: readonly Id[] | undefined;
  /** Lowest RSSI accepted (dBm); null turns the check off. */
  readonly minRssi: number | null;
  readonly clock: () => number;
  /** performance.now() value after which the scan gives up. */
  readonly deadline: number;
}

export type FindResult<Id> = FoundPhone<Id> | { readonly code: BleUnlockFailureCode; readonly reason: string };

export async function findPhone<Id>(noble: Noble, options: FindOptions<Id>): Promise<FindResult<Id>> {
  const { matcher, ids, minRssi, clock, deadline } = options;
  let weakest: number | null = null;
  const found = await new Promise<FoundPhone<Id> | null>((resolve) => {
    const timer = setTimeout(() => done(null), Math.max(0, deadline - performance.now()));
    const onDiscover = (peripheral: Peripheral): void => {
      const data = peripheral.advertisement?.manufacturerData;
      const tag = data ? tagFromManufacturerData(new Uint8Array(data)) : null;
      const match = tag ? matcher.match(tag, clock()) : null;
      if (!tag || !match || (ids && !ids.includes(match.id)) || !peripheral.connectable) return;
      if (minRssi !== null && peripheral.rssi < minRssi) {
        weakest = peripheral.rssi;
        return;
      }
      done({ peripheral, id: match.id, tag });
    };
    const done = (value: FoundPhone<Id> | null): void => {
      clearTimeout(timer);
      noble.removeListener('discover', onDiscover);
      resolve(value);
    };
    noble.on('discover', onDiscover);
    noble.startScanningAsync([], true).catch(() => done(null));
  });
  await withTimeout(noble.stopScanningAsync(), 1_000, () => new Error('stop scanning timed out')).catch(
    () => undefined,
  );
  if (found) return found;
  if (weakest !== null)
    return { code: 'signal-too-weak', reason: `a paired phone was heard only at ${weakest} dBm, below ${minRssi} dBm` };
  return { code: 'no-phone-found', reason: 'no paired phone advertised in range' };
}
