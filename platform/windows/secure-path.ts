/**
 * The file-access seam on Windows (platform/secure-path.ts): a rule's owners are SIDs and its
 * forbidden mode bits become rights no other account may hold in the DACL (0o022: no write,
 * 0o077: nothing at all), read with GetNamedSecurityInfoW and judged by the pure reader in
 * security-descriptor.ts. SYSTEM and Administrators are trusted like root on Linux. Directories
 * this makes get a protected DACL: SYSTEM, Administrators and this process's account (the state
 * directory of docs/windows.md §7; `%ProgramData%\Latchkey` is made so by the MSI, §9).
 *
 * Wine keeps no security descriptor on files (docs/windows.md §10): reading one back gives a
 * default that lets Everyone read. Under wine (ntdll exports wine_get_version) only the owner is
 * checked; the DACL checks run on Windows, where they fail closed.
 */
import { promises as fs, type Stats } from 'node:fs';
import path from 'node:path';
import { missingDirectories } from '../missing-directories.js';
import type { AccountId } from '../ipc-transport.js';
import { InsecurePathError, UnusablePathError } from '../path-errors.js';
import type { PathRule } from '../secure-path.js';
import {
  ADMINISTRATORS_SID,
  REPLACE_RIGHTS,
  SYSTEM_SID,
  SddlError,
  parseSecurityDescriptor,
  rightsProblem,
  type SecurityDescriptor,
} from './security-descriptor.js';
import { processIdentity } from './tokens.js';
import {
  DACL_SECURITY_INFORMATION,
  ERROR_ALREADY_EXISTS,
  OWNER_SECURITY_INFORMATION,
  SDDL_REVISION_1,
  SE_FILE_OBJECT,
  describeWin32Error,
  useWin32,
  type Pointer,
  type Win32,
} from './win32.js';

const CODE = 'files-unavailable';
const WRITE_OR_ANY = (bits: number) =>
  (bits & 0o044) !== 0
    ? 0xffff_ffff
    : 0x2 | 0x4 | 0x10 | 0x40 | 0x100 | 0x0001_0000 | 0x0004_0000 | 0x0008_0000 | 0x4000_0000 | 0x1000_0000;
/** Owners Windows gives the system's own folders (C:\, C:\ProgramData): TrustedInstaller and the two above. */
const TRUSTED_INSTALLER = 'S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464';

export function trustedOwners(): string[] {
  const self = processIdentity(useWin32(CODE), CODE).sid;
  return [...new Set([SYSTEM_SID, ADMINISTRATORS_SID, self])];
}

function aclsKept(win: Win32): boolean {
  return win.wineVersion === null;
}

/** The owner and DACL of `target` as SDDL, parsed. */
function readDescriptor(win: Win32, target: string): SecurityDescriptor {
  const descriptor: [Pointer] = [null];
  const status = win.GetNamedSecurityInfoW(
    target,
    SE_FILE_OBJECT,
    OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION,
    null,
    null,
    null,
    null,
    descriptor,
  );
  if (status !== 0)
    throw new InsecurePathError(target, `cannot read who may use ${target}: ${describeWin32Error(status)}`);
  try {
    const text: [Pointer] = [null];
    if (
      win.ConvertSecurityDescriptorToStringSecurityDescriptorW(
        descriptor[0],
        SDDL_REVISION_1,
        OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION,
        text,
        null,
      ) === 0
    )
      throw new InsecurePathError(
        target,
        `cannot read who may use ${target}: ${describeWin32Error(win.GetLastError())}`,
      );
    try {
      return parseSecurityDescriptor(win.readWide(text[0]));
    } catch (error) {
      if (error instanceof SddlError)
        throw new InsecurePathError(target, `cannot judge who may use ${target}: ${error.message}`);
      throw error;
    }
  } finally {
    win.LocalFree(descriptor[0]);
  }
}

function judge(target: string, owners: readonly AccountId[], forbidden: number): void {
  const win = useWin32(CODE);
  const trusted = [
    ...new Set([SYSTEM_SID, ADMINISTRATORS_SID, ...owners.filter((o): o is string => typeof o === 'string')]),
  ];
  const descriptor = readDescriptor(win, target);
  const problem = aclsKept(win)
    ? rightsProblem(descriptor, trusted, forbidden)
    : rightsProblem({ ...descriptor, dacl: [] }, trusted, forbidden);
  if (problem) throw new InsecurePathError(target, `${target}: ${problem}`);
}

export function checkStats(target: string, _stats: Stats, rule: PathRule): void {
  judge(target, rule.owners ?? trustedOwners(), WRITE_OR_ANY(rule.forbiddenModeBits));
}

/** The directory: no one else may write it; every directory above: no one else may replace what is in it. */
export async function checkDirectoryChain(
  directory: string,
  trusted: readonly AccountId[] = trustedOwners(),
): Promise<void> {
  const owners = [...trusted, TRUSTED_INSTALLER];
  const real = await fs.realpath(directory);
  for (let current = real, first = true; ; first = false) {
    const stats = await fs.stat(current);
    if (!stats.isDirectory()) throw new InsecurePathError(current, `${current} is not a directory`);
    judge(current, owners, first ? WRITE_OR_ANY(0o022) : REPLACE_RIGHTS);
    const parent = path.dirname(current);
    if (parent === current) return;
    current = parent;
  }
}

export async function checkParentDirectory(file: string): Promise<void> {
  const directory = path.dirname(path.resolve(file));
  await fs.stat(directory); // ENOENT as on Linux: a missing config directory is a missing file
  judge(directory, [...trustedOwners(), TRUSTED_INSTALLER], REPLACE_RIGHTS);
}

/** The DACL a directory made here gets: SYSTEM, Administrators, this account; readers too when `mode` lets others read. */
export function directorySddl(selfSid: string, mode: number): string {
  const entries = ['(A;OICI;FA;;;SY)', '(A;OICI;FA;;;BA)'];
  if (selfSid !== SYSTEM_SID && selfSid !== ADMINISTRATORS_SID) entries.push(`(A;OICI;FA;;;${selfSid})`);
  if ((mode & 0o005) !== 0) entries.push('(A;OICI;FRFX;;;AU)');
  return `D:P${entries.join('')}`;
}

export async function makeDirectories(directory: string, mode: number): Promise<void> {
  const win = useWin32(CODE);
  const target = path.resolve(directory);
  const missing = await missingDirectories(target);
  if (missing.length === 0) return;
  const sddl = directorySddl(processIdentity(win, CODE).sid, mode);
  const descriptor: [Pointer] = [null];
  if (win.ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl, SDDL_REVISION_1, descriptor, null) === 0)
    throw new UnusablePathError(
      target,
      `cannot make the access list ${sddl}: ${describeWin32Error(win.GetLastError())}`,
    );
  try {
    for (const created of missing) {
      if (win.CreateDirectoryW(created, { nLength: 24, lpSecurityDescriptor: descriptor[0], bInheritHandle: 0 }) !== 0)
        continue;
      const error = win.GetLastError();
      if (error === ERROR_ALREADY_EXISTS && (await fs.stat(created).catch(() => null))?.isDirectory()) continue;
      throw new UnusablePathError(target, `cannot create ${created}: ${describeWin32Error(error)}`);
    }
  } finally {
    win.LocalFree(descriptor[0]);
  }
}
