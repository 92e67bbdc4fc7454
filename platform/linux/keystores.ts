/** The keystore backends on Linux (platform/keystore/keystore.ts): sealed files, and the Secret Service. */
import { FileKeystore } from '../keystore/file-keystore.js';
import { lazyOsKeystore, type KeystoreBackends } from '../keystore/keystore.js';

export const linuxKeystores: KeystoreBackends = {
  file: (directory) => new FileKeystore(directory),
  os: (service) => lazyOsKeystore(service, 'Secret Service'),
};
