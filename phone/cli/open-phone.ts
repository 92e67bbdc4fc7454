/** Opening the phone from the command line's global options: home dir, passphrase, connectivity. */
import { hostname, homedir } from 'node:os';
import path from 'node:path';
import { Phone, newPhoneState } from '../core/phone.js';
import type { Connectivity } from '../core/ports.js';
import { nodeFetch } from '../../platform/node-fetch.js';
import { readPassphrase } from './passphrase.js';
import { FileVaultStore } from './vault-file.js';

export interface GlobalOptions {
  readonly home?: string;
  readonly passphraseFile?: string;
  readonly offline?: boolean;
}

export const HOME_ENV = 'LATCHKEY_PHONE_HOME';

export function homeOf(options: GlobalOptions): string {
  return path.resolve(options.home ?? process.env[HOME_ENV] ?? path.join(homedir(), '.latchkey-phone'));
}

/** `--offline` is airplane mode: the phone does not try the network at all (R4). */
function connectivityOf(options: GlobalOptions): Connectivity {
  return { hasNetwork: () => !options.offline };
}

export async function openPhone(options: GlobalOptions): Promise<{ phone: Phone; store: FileVaultStore }> {
  const passphrase = await readPassphrase(
    options.passphraseFile === undefined ? {} : { passphraseFile: options.passphraseFile },
  );
  try {
    const store = await FileVaultStore.open(homeOf(options), passphrase);
    return { phone: await Phone.open({ store, connectivity: connectivityOf(options), fetch: nodeFetch }), store };
  } finally {
    passphrase.fill(0);
  }
}

export async function initPhone(
  options: GlobalOptions,
  name: string | undefined,
): Promise<{ home: string; name: string }> {
  const home = homeOf(options);
  const passphrase = await readPassphrase({
    ...(options.passphraseFile === undefined ? {} : { passphraseFile: options.passphraseFile }),
    confirm: true,
  });
  try {
    const deviceName = name ?? `Latchkey phone (${hostname()})`;
    await FileVaultStore.create(home, passphrase, await newPhoneState(deviceName, Date.now()));
    return { home, name: deviceName };
  } finally {
    passphrase.fill(0);
  }
}
