/**
 * Where Latchkey keeps its files on Windows (docs/windows.md §9): `Latchkey` in the ProgramData
 * known folder (SHGetKnownFolderPath, not %ProgramData%, which a service's environment need not
 * name): agent.json and enroll.json there, the state directory `state` below it.
 */
import path from 'node:path';
import { SystemError } from '../system-error.js';
import { useWin32, type Pointer } from './win32.js';

/** FOLDERID_ProgramData {62AB5D82-FDC1-4DC3-A9DD-070D1D495D97} as a GUID in memory. */
function programDataId(): Buffer {
  const guid = Buffer.alloc(16);
  guid.writeUInt32LE(0x62ab5d82, 0);
  guid.writeUInt16LE(0xfdc1, 4);
  guid.writeUInt16LE(0x4dc3, 6);
  Buffer.from([0xa9, 0xdd, 0x07, 0x0d, 0x1d, 0x49, 0x5d, 0x97]).copy(guid, 8);
  return guid;
}

let base: string | undefined;

/** `…\ProgramData\Latchkey`. */
export function latchkeyDataDirectory(): string {
  if (base) return base;
  const win = useWin32('files-unavailable');
  const found: [Pointer] = [null];
  const status = win.SHGetKnownFolderPath(programDataId(), 0, null, found);
  try {
    if (status !== 0)
      throw new SystemError(
        'files-unavailable',
        `cannot find the ProgramData folder (HRESULT 0x${(status >>> 0).toString(16)})`,
      );
    base = path.win32.join(win.readWide(found[0]), 'Latchkey');
    return base;
  } finally {
    win.CoTaskMemFree(found[0]);
  }
}

export const windowsDefaults = {
  get configFile() {
    return path.win32.join(latchkeyDataDirectory(), 'agent.json');
  },
  get stateDir() {
    return path.win32.join(latchkeyDataDirectory(), 'state');
  },
};
