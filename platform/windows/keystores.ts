/**
 * The keystore backends on Windows (platform/keystore/keystore.ts, docs/windows.md §8): the
 * file keystore with host.key protected by DPAPI in machine scope (CryptProtectData with
 * CRYPTPROTECT_LOCAL_MACHINE | CRYPTPROTECT_UI_FORBIDDEN: only this machine opens it), and
 * Credential Manager through @napi-rs/keyring for a per-user agent.
 */
import { FileKeystore, type HostKeyProtector } from '../keystore/file-keystore.js';
import { KeystoreError } from '../keystore/errors.js';
import { lazyOsKeystore, type KeystoreBackends } from '../keystore/keystore.js';
import { describeWin32Error, useWin32, type DataBlob, type Win32 } from './win32.js';

const CRYPTPROTECT_UI_FORBIDDEN = 0x1;
const CRYPTPROTECT_LOCAL_MACHINE = 0x4;
/** A DPAPI blob of a 32-byte key is ~180–250 bytes; anything far larger is not one. */
const MAX_BLOB_BYTES = 4096;

function withBlob<T>(win: Win32, data: Uint8Array, use: (blob: DataBlob) => T): T {
  const memory = win.koffi.alloc('uint8_t', Math.max(1, data.length));
  try {
    win.koffi.encode(memory, win.koffi.array('uint8_t', data.length), [...data]);
    return use({ cbData: data.length, pbData: memory });
  } finally {
    win.koffi.encode(memory, win.koffi.array('uint8_t', data.length), new Array(data.length).fill(0));
    win.koffi.free(memory);
  }
}

/** Copies the output blob out and wipes and frees DPAPI's copy. */
function takeOutput(win: Win32, output: Partial<DataBlob>): Uint8Array {
  const length = output.cbData ?? 0;
  const view = new Uint8Array(win.koffi.view(output.pbData, length));
  const copy = Uint8Array.from(view);
  view.fill(0);
  win.LocalFree(output.pbData);
  return copy;
}

export const dpapiMachineScope: HostKeyProtector = {
  name: 'host key protected by DPAPI, machine scope',
  maxBytes: MAX_BLOB_BYTES,
  protect(key) {
    const win = useWin32('files-unavailable');
    return withBlob(win, key, (input) => {
      const output: Partial<DataBlob> = {};
      const flags = CRYPTPROTECT_LOCAL_MACHINE | CRYPTPROTECT_UI_FORBIDDEN;
      if (win.CryptProtectData(input, null, null, null, null, flags, output) === 0)
        throw new KeystoreError('keystore-io', `CryptProtectData failed: ${describeWin32Error(win.GetLastError())}`);
      return takeOutput(win, output);
    });
  },
  unprotect(blob, file) {
    const win = useWin32('files-unavailable');
    return withBlob(win, blob, (input) => {
      const output: Partial<DataBlob> = {};
      if (win.CryptUnprotectData(input, null, null, null, null, CRYPTPROTECT_UI_FORBIDDEN, output) === 0)
        throw new KeystoreError(
          'keystore-tampered',
          `${file} does not open with this machine's DPAPI key (${describeWin32Error(win.GetLastError())}): copied from another machine, or damaged`,
        );
      return takeOutput(win, output);
    });
  },
};

export const windowsKeystores: KeystoreBackends = {
  file: (directory) => new FileKeystore(directory, dpapiMachineScope),
  os: (service) => lazyOsKeystore(service, 'Credential Manager'),
};
